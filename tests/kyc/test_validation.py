"""Document number rules, the derived status and Aadhaar encryption (no services needed)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.exceptions import InvalidTag

from app.config import Settings
from app.identity.documents import KycStatus
from app.kyc import crypto
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument
from app.kyc.service import derive_status, financial_year_start
from app.kyc.validation import (
    aadhaar_problem,
    driving_licence_problem,
    masked,
    normalise,
    pan_problem,
    verhoeff_digit,
    verhoeff_valid,
)

TODAY = dt.date(2026, 6, 1)


def aadhaar(prefix: str = "23456789012") -> str:
    return prefix + verhoeff_digit(prefix)


def test_verhoeff() -> None:
    assert verhoeff_digit("236") == "3" and verhoeff_valid("2363")  # the textbook example
    assert verhoeff_digit("12345") == "1" and verhoeff_valid("123451")
    number = aadhaar()
    assert verhoeff_valid(number)
    # every single-digit error and every adjacent transposition is caught
    for i in range(12):
        for d in "0123456789":
            if d != number[i]:
                assert not verhoeff_valid(number[:i] + d + number[i + 1 :])
    for i in range(11):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            assert not verhoeff_valid(swapped)


def test_aadhaar_rules_never_echo_the_number() -> None:
    good = aadhaar()
    assert aadhaar_problem(good) is None
    assert aadhaar_problem(normalise(f"{good[:4]} {good[4:8]} {good[8:]}")) is None
    bad_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    for wrong in (bad_check, "1" + good[1:], good[:11], good + "1", "abcdefghijkl"):
        problem = aadhaar_problem(wrong)
        assert problem is not None and wrong not in problem and good[-4:] not in problem
    assert masked("aadhaar", good[-4:]) == f"XXXX XXXX {good[-4:]}"


def test_pan_and_driving_licence() -> None:
    assert pan_problem("ABCPE1234F") is None
    assert pan_problem(normalise("abcpe 1234f")) is None
    assert pan_problem("ABCXE1234F") is not None  # X is no holder type
    for wrong in ("ABCP1234F", "ABCPE12345", "1BCPE1234F", "ABCPE1234"):
        assert pan_problem(wrong) is not None
    assert driving_licence_problem(normalise("MH-02 2011 0012345")) is None
    assert driving_licence_problem("MH0218990012345") is not None  # year 1899
    assert driving_licence_problem("M10220110012345") is not None


def test_aadhaar_is_encrypted_bound_to_its_holder(settings: Settings) -> None:
    number = aadhaar()
    token = crypto.encrypt_number(settings, number, "u1:aadhaar")
    assert number not in token and token.startswith("v1:")
    assert crypto.encrypt_number(settings, number, "u1:aadhaar") != token  # fresh nonce
    assert crypto.decrypt_number(settings, token, "u1:aadhaar") == number
    with pytest.raises(InvalidTag):
        crypto.decrypt_number(settings, token, "u2:aadhaar")
    other = settings.model_copy(update={"kyc_data_key": settings.secret_key.__class__("k" * 40)})
    with pytest.raises(InvalidTag):
        crypto.decrypt_number(other, token, "u1:aadhaar")
    fp = crypto.fingerprint(settings, "aadhaar", number)
    assert fp == crypto.fingerprint(settings, "aadhaar", number) and number not in fp


def doc(kind: DocumentKind, status: DocumentStatus, days_ago: int = 0,
        expires_on: str | None = None) -> KycDocument:  # fmt: skip
    return KycDocument(
        user_id="u", kind=kind, status=status, file_id="f", expires_on=expires_on,
        submitted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) - dt.timedelta(days=days_ago),
    )  # fmt: skip


@pytest.mark.usefixtures("services")  # Beanie documents need an initialised collection
def test_the_status_is_derived_from_the_documents() -> None:
    pan, adh, dl = DocumentKind.PAN, DocumentKind.AADHAAR, DocumentKind.DRIVING_LICENCE
    v, p, r = DocumentStatus.VERIFIED, DocumentStatus.PENDING, DocumentStatus.REJECTED
    assert derive_status([], TODAY) == (KycStatus.NOT_STARTED, ["pan", "proof_of_address"])
    assert derive_status([doc(pan, p)], TODAY)[0] == KycStatus.PENDING
    assert derive_status([doc(pan, r)], TODAY)[0] == KycStatus.REJECTED
    assert derive_status([doc(pan, v)], TODAY) == (KycStatus.INCOMPLETE, ["proof_of_address"])
    assert derive_status([doc(pan, v), doc(adh, v)], TODAY) == (KycStatus.VERIFIED, [])
    # a re-submission after a rejection is pending; the older rejection no longer counts
    assert derive_status([doc(pan, r, 5), doc(pan, v, 1), doc(adh, v)], TODAY)[0] == (
        KycStatus.VERIFIED)  # fmt: skip
    # a rejected address proof does not matter while Aadhaar covers the address
    assert derive_status([doc(pan, v), doc(adh, v), doc(DocumentKind.ADDRESS_PROOF, r)],
                         TODAY)[0] == KycStatus.VERIFIED  # fmt: skip
    # a driving licence past its expiry stops counting the day after
    licence = doc(dl, v, expires_on="2026-06-01")
    assert derive_status([doc(pan, v), licence], TODAY)[0] == KycStatus.VERIFIED
    assert derive_status([doc(pan, v), licence], TODAY + dt.timedelta(days=1)) == (
        KycStatus.EXPIRED, ["proof_of_address"])  # fmt: skip


def test_financial_year() -> None:
    assert financial_year_start(dt.date(2026, 3, 31)) == dt.date(2025, 4, 1)
    assert financial_year_start(dt.date(2026, 4, 1)) == dt.date(2026, 4, 1)
