"""Declared amounts in the CRM are app.money's decimal strings (``Paise``), never negative: a
lead's investment capacity is stored in paise and shown back with two places, and every other
shape is refused before anything is written."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.crm.documents import Lead
from app.crm.schemas import ClientPatch, ConvertRequest, LeadCreate, LeadOut, LeadPatch
from app.crm.service import crm_service
from app.identity.documents import PlatformRole
from app.money import AMOUNT_SCHEMA
from tests.crm.conftest import email, staff

pytestmark = pytest.mark.usefixtures("services")


@pytest.mark.parametrize("model", [LeadCreate, LeadPatch, ConvertRequest, ClientPatch])
@pytest.mark.parametrize("bad", ["-1.00", "1e3", "12.345", "", " ", "1,000.00", 5000, 12.5, True])
def test_every_capacity_field_refuses_what_app_money_refuses(model: type, bad: object) -> None:
    fields = {"full_name": "Asha Rao"} if model is LeadCreate else {}
    with pytest.raises(ValidationError):
        model(**fields, investment_capacity=bad)


def test_the_documented_shape_is_app_moneys_without_a_sign() -> None:
    schema = LeadCreate.model_json_schema()["properties"]["investment_capacity"]["anyOf"][0]
    assert schema["type"] == AMOUNT_SCHEMA["type"]
    assert schema["pattern"] == AMOUNT_SCHEMA["pattern"].replace("-?", "")


async def test_a_capacity_is_stored_in_paise_and_shown_with_two_places() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    data = LeadCreate(full_name="Asha Rao", email=email(), investment_capacity="1234567.5")
    lead, _ = await crm_service.do_create_lead(agent.actor, data)
    stored = await Lead.get_pymongo_collection().find_one({"_id": lead.id})
    assert stored is not None and stored["investment_capacity"] == 123456750
    assert LeadOut.of(lead).investment_capacity == "1234567.50"
    patched = await crm_service.do_update_lead(
        agent.actor, str(lead.id), LeadPatch(investment_capacity="0.05")
    )
    assert patched.investment_capacity == 5
    assert LeadOut.of(patched).investment_capacity == "0.05"
