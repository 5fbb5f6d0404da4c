"""A club's own broker account (docs/domain.md, orders): linking it (credentials encrypted at
rest, shown by their last characters, audited), the Kite login and its daily session, the
adapter an order of the club goes through (the paper broker when the club has no link), the
updates a postback, the Alpaca stream or the periodic poll turn into ``BrokerUpdateV1``
records, re-sending orders the broker could not take, and the daily comparison of holdings
with the broker's positions (a difference is shown, never corrected).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit.service import audit_service, club_chain
from app.books.service import books_service
from app.brokers import repository
from app.brokers.alpaca import LIVE_API as ALPACA_LIVE
from app.brokers.alpaca import PAPER_API, AlpacaApi, AlpacaBroker, stream_event_updates
from app.brokers.documents import (
    BrokerEnvironment,
    BrokerLink,
    BrokerProvider,
    LinkStatus,
    PositionCheck,
    PositionDifference,
    RefusedPostback,
)
from app.brokers.errors import (
    BrokerAccountTaken,
    BrokerCurrencyMismatch,
    BrokerLinkInvalid,
    BrokerLinkNotFound,
    BrokerLinkUnusable,
    BrokerLoginState,
    BrokerOrdersOpen,
    PostbackRejected,
)
from app.brokers.kite import LIVE_API as KITE_LIVE
from app.brokers.kite import (
    LIVE_LOGIN,
    KiteApi,
    KiteBroker,
    charges_request,
    contract_note_charges,
    kite_updates,
    login_url,
    postback_valid,
    tag_of,
)
from app.brokers.schemas import (
    BrokerEventOut,
    BrokerEventsOut,
    BrokerLinkOut,
    LinkCreate,
    RefusedPostbackOut,
)
from app.clubs.service import TREASURY, club_service
from app.config import get_settings
from app.db import run_in_transaction
from app.errors import ServiceUnavailable
from app.identity.keys import decrypt_secret, encrypt_secret
from app.logging import get_logger
from app.orders.broker import (
    Broker,
    BrokerCosts,
    BrokerError,
    BrokerLoginRequired,
    BrokerUnavailable,
    PaperBroker,
)
from app.orders.documents import Order
from app.orders.service import order_service
from app.realtime.eventlog import iso, utcnow
from streams.producer import EventProducer
from streams.records import BrokerUpdateV1, OrderCommandV1

log = get_logger(__name__)

CURRENCY_OF: dict[BrokerProvider, str] = {
    BrokerProvider.KITE: "INR",
    BrokerProvider.ALPACA: "USD",
}
"""The currency each broker trades in: Kite Connect Indian instruments (NSE/BSE) in rupees,
Alpaca US instruments in dollars. A club links only the broker of its own currency."""

KITE_SESSION_ENDED = (
    "Kite ended the club's session (Kite sessions end every morning): log in to Kite again. "
    "Orders sent meanwhile wait and go once you have logged in."
)
KITE_KEYS_REFUSED = (
    "Kite refused the API secret: no session could be made with it. Change the keys (the "
    "API secret is in Kite's developer console), then log in again."
)
KITE_LOGIN_STALE = "This Kite login had expired or was used already: log in to Kite again."
ALPACA_KEYS_REFUSED = "Alpaca refused the club's keys: change the keys."
NOT_ANSWERING = "The broker did not answer. Nothing was changed; try again in a few minutes."
NOT_UNDERSTOOD = "The broker's answer was not understood. Nothing was changed."


def describe(provider: BrokerProvider, exc: Exception) -> str:
    """A sentence for the treasurer about a broker failure (the broker's own words stay in
    the log and the audit record, never on screen)."""
    if isinstance(exc, BrokerLoginRequired):
        return KITE_SESSION_ENDED if provider is BrokerProvider.KITE else ALPACA_KEYS_REFUSED
    if isinstance(exc, BrokerUnavailable):
        return NOT_ANSWERING
    if isinstance(exc, BrokerError):
        return "The broker refused the request. Nothing was changed."
    return NOT_UNDERSTOOD


def _secret_refused(exc: BrokerError) -> bool:
    # Kite answers a session request whose checksum does not match (a wrong API secret) with
    # "Invalid checksum"; an expired or reused request_token has its own message.
    return "checksum" in str(exc).lower()


def _seal(club_id: str, field: str, value: str) -> str:
    return encrypt_secret(get_settings(), value, f"broker:{club_id}:{field}")


def _open(link: BrokerLink, field: str, token: str) -> str:
    return decrypt_secret(get_settings(), token, f"broker:{link.club_id}:{field}")


def _roots(link: BrokerLink) -> tuple[str, str]:
    """(API root, Kite login page) of the link's environment."""
    sandbox = get_settings().broker_sandbox_url.rstrip("/")
    if link.provider is BrokerProvider.KITE:
        if link.environment is BrokerEnvironment.LIVE:
            return KITE_LIVE, LIVE_LOGIN
        return f"{sandbox}/kite", f"{sandbox}/kite/connect/login"
    if link.environment is BrokerEnvironment.LIVE:
        return ALPACA_LIVE, ""
    if link.environment is BrokerEnvironment.PAPER:
        return PAPER_API, ""
    return f"{sandbox}/alpaca", ""


class _NeedsLogin:
    """The broker of a club whose Kite session ended: every command waits for a login."""

    name = "kite"

    async def send(self, command: OrderCommandV1) -> str | None:
        raise BrokerLoginRequired("log in to Kite again")


class _Unusable:
    """The broker of a link whose keys are unverified or refused: nothing goes through it."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def send(self, command: OrderCommandV1) -> str | None:
        raise BrokerUnavailable("the club's broker keys are unverified or refused")


async def _check_account_free(link: BrokerLink) -> None:
    """Refuse a link to a broker account another club is linked to (``BrokerAccountTaken``);
    a link whose account is not known yet passes."""
    if link.account_ref and await repository.account_linked_elsewhere(
        link.provider.value, link.account_ref, link.club_id
    ):
        raise BrokerAccountTaken(
            "this broker account is linked to another club already: one account serves one "
            "club (their orders, fills and positions would mix). Use the club's own account.",
            details={"club_id": link.club_id},
        )


class BrokerService:
    """Broker links and updates. Takes the acting user's id explicitly."""

    # ---- adapters ------------------------------------------------------------------------

    def kite_api(self, link: BrokerLink) -> KiteApi:
        """The link's Kite API client (with its session's access token, if any)."""
        token = _open(link, "token", link.token_enc) if link.token_enc else None
        return KiteApi(_roots(link)[0], _open(link, "key", link.key_enc), token)

    def alpaca_api(self, link: BrokerLink) -> AlpacaApi:
        """The link's Alpaca API client."""
        return AlpacaApi(
            _roots(link)[0],
            _open(link, "key", link.key_enc),
            _open(link, "secret", link.secret_enc),
        )

    def adapter(self, link: BrokerLink) -> KiteBroker | AlpacaBroker:
        """The ``Broker`` of a linked account."""
        if link.provider is BrokerProvider.KITE:
            return KiteBroker(
                self.kite_api(link), functools.partial(self.do_session_ended, link.club_id)
            )
        return AlpacaBroker(self.alpaca_api(link))

    async def broker_for(
        self, club_id: str, producer: EventProducer, sending: bool = True
    ) -> Broker:
        """The broker a club's orders go through: its linked account, or the paper broker
        (commands on the order-commands topic through ``producer``) when it has none.

        Raises ``BrokerLinkUnusable`` (409) when ``sending`` (a submit or a change) through a
        link whose keys are unverified or refused; without ``sending`` (a cancel, which needs
        no broker for an order never sent) such a link's broker refuses each command."""
        link = await repository.link_of(club_id)
        if link is None:
            return PaperBroker(producer)
        if not sending and link.status in (LinkStatus.UNVERIFIED, LinkStatus.CREDENTIALS_REFUSED):
            return _Unusable(link.provider.value)
        if link.status is LinkStatus.UNVERIFIED:
            raise BrokerLinkUnusable(
                "the club's broker keys have not been checked yet (the broker did not answer "
                "when they were saved): test the link first; orders are not sent until then",
                details={"status": link.status.value},
            )
        if link.status is LinkStatus.CREDENTIALS_REFUSED:
            raise BrokerLinkUnusable(
                "the broker refused the club's keys: change them before sending orders",
                details={"status": link.status.value},
            )
        if link.status is not LinkStatus.ACTIVE:
            return _NeedsLogin()
        return self.adapter(link)

    async def check_treasury(self, club_id: str, actor_id: str) -> None:
        """The actor may manage the club's broker link (owner/admin/treasurer): checked before
        a request body is read, so a member learns nothing from validation. Raises
        ``ClubNotFound``, ``RoleRequired``."""
        await club_service.check_member(club_id, actor_id, TREASURY)

    # ---- linking -------------------------------------------------------------------------

    async def view(self, club_id: str, actor_id: str) -> BrokerLinkOut:
        """The club's link (owner/admin/treasurer). Raises ``ClubNotFound``, ``RoleRequired``."""
        await club_service.check_member(club_id, actor_id, TREASURY)
        link = await repository.link_of(club_id)
        check = await repository.latest_position_check(club_id) if link else None
        return BrokerLinkOut.of(link, check=check)

    async def do_link(self, club_id: str, actor_id: str, data: LinkCreate) -> BrokerLinkOut:
        """Link (or re-link) the club's broker account (owner/admin/treasurer). Alpaca keys
        are tried at once (``GET /v2/account``) and refused if Alpaca refuses them (kept,
        marked untested, if it does not answer); a Kite link waits for the treasurer's login
        (``login_url`` in the answer). Audited (``broker.linked``, last characters only).

        Kite links only to an INR club and Alpaca only to a USD club (``CURRENCY_OF``): a
        club's symbol must mean the same instrument at its broker.

        Raises:
            ClubNotFound, RoleRequired, BrokerOrdersOpen (409), BrokerLinkInvalid (422),
            BrokerCurrencyMismatch (422).
        """
        club, _ = await club_service.check_member(club_id, actor_id, TREASURY)
        wanted = CURRENCY_OF[data.provider]
        if club.currency != wanted:
            name = "Kite Connect" if data.provider is BrokerProvider.KITE else "Alpaca"
            raise BrokerCurrencyMismatch(
                f"{name} trades in {wanted}; this club keeps {club.currency}",
                details={"provider": data.provider.value, "broker_currency": wanted,
                         "club_currency": club.currency},
            )  # fmt: skip
        await self._check_no_open_orders(club_id)
        link = BrokerLink(
            club_id=club_id,
            provider=data.provider,
            environment=data.environment,
            key_enc=_seal(club_id, "key", data.key),
            secret_enc=_seal(club_id, "secret", data.secret),
            key_last4=data.key[-4:],
            secret_last4=data.secret[-4:],
            linked_by=actor_id,
        )
        url = None
        if data.provider is BrokerProvider.ALPACA:
            link.status, link.tested_at = LinkStatus.ACTIVE, utcnow()
            try:
                account = await self.alpaca_api(link).account()
            except BrokerLoginRequired as exc:
                raise BrokerLinkInvalid(f"Alpaca refused these keys: {exc}") from exc
            except (BrokerUnavailable, ValueError, TypeError, KeyError) as exc:
                # Alpaca is down (or answered oddly): the keys are kept but unverified, never
                # used for orders until "Test the link" succeeds.
                log.warning("alpaca keys saved unverified", club_id=club_id, error=str(exc))
                link.status = LinkStatus.UNVERIFIED
                link.test_ok = False
                link.test_message = (
                    "Not checked: Alpaca did not answer when the keys were saved. They are "
                    "not used for orders until a test of the link succeeds."
                )
            except BrokerError as exc:
                raise BrokerLinkInvalid(f"Alpaca refused these keys: {exc}") from exc
            else:
                link.account_ref = str(account.get("account_number") or account.get("id") or "")
                await _check_account_free(link)
                link.test_ok, link.test_message = True, "keys accepted"
        else:
            link.login_state = secrets.token_urlsafe(24)
            url = login_url(_roots(link)[1], data.key, link.login_state)

        async def body(session: AsyncClientSession) -> None:
            await repository.replace_link(link, session)
            await audit_service.do_append(
                chain=club_chain(club_id),
                actor_id=actor_id,
                action="broker.linked",
                target_type="broker_link",
                target_id=club_id,
                details={
                    "provider": data.provider.value,
                    "environment": data.environment.value,
                    "key_last4": link.key_last4,
                    "secret_last4": link.secret_last4,
                },
                session=session,
            )

        await run_in_transaction(body)
        return BrokerLinkOut.of(link, login_url=url)

    async def do_login_url(self, club_id: str, actor_id: str) -> BrokerLinkOut:
        """A fresh Kite login for the club's link (first login, or the daily renewal).
        Raises ``ClubNotFound``, ``RoleRequired``, ``BrokerLinkNotFound``,
        ``BrokerLoginState`` (not a Kite link), ``BrokerLinkUnusable`` (Kite refused the
        secret: the keys must change first)."""
        await club_service.check_member(club_id, actor_id, TREASURY)
        current = await repository.link_of(club_id)
        if current is not None and current.status is LinkStatus.CREDENTIALS_REFUSED:
            raise BrokerLinkUnusable(
                "Kite refused the club's API secret: change the keys, then log in",
                details={"status": current.status.value},
            )
        state = secrets.token_urlsafe(24)
        link = await repository.update_link(
            club_id, {"login_state": state}, guard={"provider": BrokerProvider.KITE.value}
        )
        if link is None:
            if await repository.link_of(club_id) is None:
                raise BrokerLinkNotFound("this club has no linked broker account")
            raise BrokerLoginState("only a Kite link logs in")
        return BrokerLinkOut.of(
            link, login_url=login_url(_roots(link)[1], _open(link, "key", link.key_enc), state)
        )

    async def do_complete_login(self, state: str, request_token: str) -> BrokerLink:
        """Kite's redirect after the treasurer logged in: exchange ``request_token`` for the
        session (checksum with the API secret), keep the access token encrypted and the Kite
        user id. ``state`` is the one-time value of ``do_login_url`` (used once). Audited
        (``broker.session_started``).

        Raises:
            BrokerLoginState (409), BrokerLinkInvalid (422), ServiceUnavailable (503).
        """
        link = await repository.link_by_state(state) if state else None
        if link is None or link.provider is not BrokerProvider.KITE:
            raise BrokerLoginState("this login does not belong to a link waiting for it")
        api = self.kite_api(link)
        details = {"club_id": link.club_id}
        try:
            session = await api.generate_session(
                request_token, _open(link, "secret", link.secret_enc)
            )
        except BrokerUnavailable as exc:
            if not isinstance(exc, BrokerLoginRequired):
                raise _unavailable(exc, details) from exc
            await self._login_failed(link, state, exc)
            raise BrokerLinkInvalid(f"Kite refused the login: {exc}", details=details) from exc
        except BrokerError as exc:
            await self._login_failed(link, state, exc)
            raise BrokerLinkInvalid(f"Kite refused the login: {exc}", details=details) from exc
        except (ValueError, TypeError, KeyError) as exc:  # an answer not in Kite's shape
            raise _unavailable(exc, details) from exc
        token = str(session.get("access_token") or "")
        if not token:
            raise BrokerLinkInvalid("Kite gave no access token", details=details)
        await _check_account_free(link.model_copy(update={
            "account_ref": str(session.get("user_id") or "")}))  # fmt: skip
        now = utcnow()

        async def body(tx: AsyncClientSession) -> BrokerLink | None:
            moved = await repository.update_link(
                link.club_id,
                {
                    "token_enc": _seal(link.club_id, "token", token),
                    "session_at": now,
                    "account_ref": str(session.get("user_id") or ""),
                    "login_state": None,
                    "status": LinkStatus.ACTIVE.value,
                    "status_reason": "",
                },
                tx,
                guard={"login_state": state},
            )
            if moved is not None:
                await audit_service.do_append(
                    chain=club_chain(link.club_id),
                    actor_id=link.linked_by,
                    action="broker.session_started",
                    target_type="broker_link",
                    target_id=link.club_id,
                    details={"account": moved.account_ref},
                    session=tx,
                )
            return moved

        moved = await run_in_transaction(body)
        if moved is None:
            raise BrokerLoginState("this login was completed already")
        return moved

    async def _login_failed(self, link: BrokerLink, state: str, exc: BrokerError) -> None:
        """Kite refused a login's session: a wrong secret turns the link
        ``credentials_refused`` (keys must change; never active); an expired or reused login
        leaves it waiting for a new login. The one-time ``state`` is spent either way.
        Audited (``broker.login_refused``, the broker's words kept there)."""
        refused = _secret_refused(exc)
        reason = KITE_KEYS_REFUSED if refused else KITE_LOGIN_STALE
        status = LinkStatus.CREDENTIALS_REFUSED if refused else LinkStatus.LOGIN_REQUIRED

        async def body(tx: AsyncClientSession) -> None:
            moved = await repository.update_link(
                link.club_id,
                {"status": status.value, "status_reason": reason, "login_state": None,
                 "token_enc": None},
                tx,
                guard={"login_state": state},
            )  # fmt: skip
            if moved is not None:
                await audit_service.do_append(
                    chain=club_chain(link.club_id),
                    actor_id=link.linked_by,
                    action="broker.login_refused",
                    target_type="broker_link",
                    target_id=link.club_id,
                    details={"status": status.value, "broker_said": str(exc)[:200]},
                    session=tx,
                )

        await run_in_transaction(body)

    async def do_test(self, club_id: str, actor_id: str) -> BrokerLinkOut:
        """Ask the broker who the link is (Kite ``GET /user/profile``, Alpaca
        ``GET /v2/account``) and keep the answer; a Kite session found ended turns the link to
        ``login_required``. Raises ``ClubNotFound``, ``RoleRequired``, ``BrokerLinkNotFound``."""
        await club_service.check_member(club_id, actor_id, TREASURY)
        link = await repository.link_of(club_id)
        if link is None:
            raise BrokerLinkNotFound("this club has no linked broker account")
        ok, message = True, "the broker answered"
        fields: dict[str, Any] = {}
        try:
            if link.provider is BrokerProvider.KITE:
                if link.status is LinkStatus.CREDENTIALS_REFUSED:
                    ok, message = False, KITE_KEYS_REFUSED
                elif link.status is not LinkStatus.ACTIVE:
                    ok, message = (
                        False,
                        ("Not logged in: log in to Kite to start the club's session."),
                    )
                else:
                    who = await self.kite_api(link).profile()
                    message = f"Logged in to Kite as {who.get('user_id', '?')}."
            else:
                who = await self.alpaca_api(link).account()
                number = str(who.get("account_number") or who.get("id") or "")
                message = f"Alpaca account {number or '?'} ({who.get('status', '?')})."
                if link.status is not LinkStatus.ACTIVE:
                    # The keys answered: an unverified (or refused) link takes orders now —
                    # unless the account is another club's.
                    await _check_account_free(link.model_copy(update={"account_ref": number}))
                    fields = {"status": LinkStatus.ACTIVE.value, "status_reason": "",
                              "account_ref": number or link.account_ref}  # fmt: skip
        except BrokerAccountTaken as exc:
            ok, message = False, exc.message
        except BrokerLoginRequired as exc:
            ok, message = False, describe(link.provider, exc)
            log.warning("broker link test refused", club_id=club_id, error=str(exc))
            if link.provider is BrokerProvider.KITE:
                await self.do_session_ended(club_id, str(exc))
            else:
                fields = {"status": LinkStatus.CREDENTIALS_REFUSED.value,
                          "status_reason": ALPACA_KEYS_REFUSED}  # fmt: skip
        except (BrokerError, ValueError, TypeError, KeyError) as exc:
            log.warning("broker link test failed", club_id=club_id, error=str(exc))
            ok, message = False, describe(link.provider, exc)
        found = await repository.update_link(
            club_id,
            {"tested_at": utcnow(), "test_ok": ok, "test_message": message[:300], **fields},
        )
        check = await repository.latest_position_check(club_id)
        return BrokerLinkOut.of(found, check=check)

    async def do_unlink(self, club_id: str, actor_id: str) -> None:
        """Remove the club's link (its orders go to the paper broker from then on). Audited
        (``broker.unlinked``). Raises ``ClubNotFound``, ``RoleRequired``,
        ``BrokerLinkNotFound``, ``BrokerOrdersOpen`` (409)."""
        await club_service.check_member(club_id, actor_id, TREASURY)
        await self._check_no_open_orders(club_id)

        async def body(session: AsyncClientSession) -> bool:
            link = await repository.link_of(club_id, session)
            if link is None or not await repository.delete_link(club_id, session):
                return False
            await audit_service.do_append(
                chain=club_chain(club_id),
                actor_id=actor_id,
                action="broker.unlinked",
                target_type="broker_link",
                target_id=club_id,
                details={"provider": link.provider.value, "key_last4": link.key_last4},
                session=session,
            )
            return True

        if not await run_in_transaction(body):
            raise BrokerLinkNotFound("this club has no linked broker account")

    async def _check_no_open_orders(self, club_id: str) -> None:
        working = [o for o in await order_service.open_broker_orders() if o.club_id == club_id]
        if working:
            raise BrokerOrdersOpen(
                "orders are still working at the club's broker: wait until they are filled or "
                "cancel them first",
                details={"orders": [str(o.id) for o in working][:20]},
            )

    async def do_session_ended(self, club_id: str, reason: str) -> None:
        """The broker refused the club's session: the link waits for the treasurer's login
        (the desk shows it; orders wait, answering ``broker_login_required``)."""
        moved = await repository.update_link(
            club_id,
            {
                "status": LinkStatus.LOGIN_REQUIRED.value,
                "status_reason": KITE_SESSION_ENDED,
                "token_enc": None,
            },
            guard={"status": LinkStatus.ACTIVE.value, "provider": BrokerProvider.KITE.value},
        )
        if moved is not None:
            log.warning("broker session ended; the treasurer must log in", club_id=club_id)
            await audit_service.do_append(
                chain=club_chain(club_id),
                actor_id=None,
                action="broker.session_ended",
                target_type="broker_link",
                target_id=club_id,
                details={"reason": reason[:200]},
            )

    # ---- updates ---------------------------------------------------------------------------

    async def do_kite_postback(self, raw: bytes, remote: str) -> list[BrokerUpdateV1]:
        """A Kite postback: the checksum (order_id + order_timestamp + the account's API
        secret) is verified before anything in it is used; then the order's state and its
        trades (``GET /orders/{id}/trades``) become broker updates (for the caller to put on
        the order-fills topic). A refused postback is recorded.

        Raises:
            PostbackRejected (401): unreadable, unknown account, wrong checksum.
        """
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            await self._refuse("unreadable", raw, remote)
            raise PostbackRejected("the postback is not a JSON object")
        account = str(payload.get("user_id") or "")
        link = (
            await repository.link_by_account(BrokerProvider.KITE.value, account)
            if account
            else None
        )
        order_ref = str(payload.get("order_id") or "")
        if link is None:
            await self._refuse("unknown_account", raw, remote, order_ref, account)
            raise PostbackRejected("the postback names no linked account")
        try:
            secret = _open(link, "secret", link.secret_enc)
        except (InvalidTag, ValueError):
            secret = ""
        if not secret or not postback_valid(payload, secret):
            await self._refuse("bad_checksum", raw, remote, order_ref, account)
            raise PostbackRejected("the postback's checksum does not match")
        order = await order_service.order_by_broker_id(BrokerProvider.KITE.value, order_ref)
        if order is None:
            order = await self._order_by_tag(link, str(payload.get("tag") or ""), order_ref)
        if order is None or order.club_id != link.club_id:
            return []  # not ours yet: the poll finds it once its id is stored
        trades: list[dict[str, Any]] = []
        try:
            trades = await self.kite_api(link).order_trades(order_ref)
        except BrokerLoginRequired as exc:
            await self.do_session_ended(link.club_id, str(exc))
        except (BrokerError, ValueError, TypeError, KeyError) as exc:
            log.warning("trades of a postback not fetched; the poll will", error=str(exc))
        try:
            return kite_updates(order, payload, trades, BrokerCosts.of(get_settings()))
        except (ValueError, TypeError, KeyError) as exc:  # genuine but unreadable: poll instead
            log.warning("postback not understood; the poll will read the order", error=str(exc))
            return []

    async def _order_by_tag(self, link: BrokerLink, tag: str, ref: str) -> Order | None:
        if not tag:
            return None
        for order in await order_service.open_broker_orders():
            if order.club_id == link.club_id and tag_of(str(order.id)) == tag:
                return order if order.broker_order_id in (None, ref) else None
        return None

    async def _refuse(
        self, reason: str, raw: bytes, remote: str, order_ref: str = "", account: str = ""
    ) -> None:
        log.warning("broker postback refused", reason=reason, remote=remote, order=order_ref)
        await repository.record_refused(
            RefusedPostback(
                provider=BrokerProvider.KITE,
                reason=reason,
                order_ref=order_ref[:64],
                account_ref=account[:64],
                remote=remote[:64],
                body=raw[:4096].decode("utf-8", errors="replace"),
            )
        )

    async def events(self, club_id: str, actor_id: str) -> BrokerEventsOut:
        """The club's broker audit records (``broker.*`` and ``order.modified``), newest
        first, and the refused postbacks naming its Kite account (owner/admin/treasurer).
        Raises ``ClubNotFound``, ``RoleRequired``."""
        await club_service.check_member(club_id, actor_id, TREASURY)
        records = await audit_service.latest(club_chain(club_id), limit=300)
        shown = [
            BrokerEventOut(at=iso(r.at), action=r.action, actor_id=r.actor_id,
                           details=dict(r.details))
            for r in records
            if r.action.startswith("broker.") or r.action == "order.modified"
        ][:50]  # fmt: skip
        link = await repository.link_of(club_id)
        refused: list[RefusedPostback] = []
        if link is not None and link.account_ref:
            refused = await repository.refused_postbacks(50, account_ref=link.account_ref)
        return BrokerEventsOut(
            events=shown, refused_postbacks=[RefusedPostbackOut.of(r) for r in refused]
        )

    async def refused_postbacks(self, limit: int = 50) -> list[RefusedPostback]:
        """The latest refused postbacks, newest first (operators, tests)."""
        return await repository.refused_postbacks(limit)

    async def alpaca_links(self) -> list[BrokerLink]:
        """Active Alpaca links (each has a ``trade_updates`` stream)."""
        return [
            link
            for link in await repository.links(BrokerProvider.ALPACA.value)
            if link.status is LinkStatus.ACTIVE
        ]

    async def stream_updates(self, link: BrokerLink, data: dict[str, Any]) -> list[BrokerUpdateV1]:
        """One Alpaca ``trade_updates`` event of ``link``'s account as broker updates. Its
        order's ``client_order_id`` is our order id (a replacement's: ``<our id>.<random>``);
        about a former id of the order (replaced), only its fills count."""
        state = dict(data.get("order") or {})
        ours = str(state.get("client_order_id") or "").split(".", 1)[0]
        order = await order_service.order(ours) if ours else None
        if order is None:
            order = await order_service.order_by_broker_id(
                BrokerProvider.ALPACA.value, str(state.get("id") or "")
            )
        if order is None or order.club_id != link.club_id:
            return []
        updates = stream_event_updates(order, data, BrokerCosts.of(get_settings()))
        if str(state.get("id") or "") in order.replaced_broker_ids:
            updates = [u for u in updates if u.fill_id]
        return updates

    async def do_poll(self, resend_after: dt.timedelta) -> list[BrokerUpdateV1]:
        """Every order open at a linked broker: one the broker never took (outage, ended
        session) and waiting longer than ``resend_after`` is handed over again; the others'
        state and executions are read back as broker updates — a dropped postback or stream
        event is recovered here (the reconciler applies each fill once)."""
        costs = BrokerCosts.of(get_settings())
        out: list[BrokerUpdateV1] = []
        links: dict[str, BrokerLink | None] = {}
        cutoff = utcnow() - resend_after
        for order in await order_service.open_broker_orders():
            if order.club_id not in links:
                links[order.club_id] = await repository.link_of(order.club_id)
            link = links[order.club_id]
            if link is None or link.status is not LinkStatus.ACTIVE:
                continue
            adapter = self.adapter(link)
            try:
                if order.broker_order_id is None:
                    submitted = order.submitted_at or utcnow()
                    if submitted.tzinfo is None:
                        submitted = submitted.replace(tzinfo=dt.UTC)
                    if submitted > cutoff:
                        continue
                    log.info("re-sending an order the broker did not take", order_id=str(order.id))
                    await order_service.do_hand_over(order, adapter)
                    continue
                out.extend(await adapter.updates(order, costs))
            except BrokerLoginRequired as exc:
                await self.do_session_ended(order.club_id, str(exc))
                links[order.club_id] = None
            except Exception as exc:  # one broker failing does not stop the others
                log.warning("broker poll failed", order_id=str(order.id), error=str(exc))
        return out

    async def do_settle_charges_due(self, now: dt.datetime | None = None) -> int:
        """Read Kite's contract note (``POST /charges/orders``) of each Kite order that ended
        with fills in the last day and was not settled: the charges it names replace the ones
        computed at published rates on each fill (per-order rounding, a plan's brokerage), the
        difference booked once (``order_service.do_settle_charges``). Kite answers for the
        day's orders only; one it cannot answer for is tried again at the next poll. Returns
        how many were settled."""
        since = (now or utcnow()) - dt.timedelta(days=1)
        settled = 0
        for order in await order_service.charges_unsettled(BrokerProvider.KITE.value, since):
            link = await repository.link_of(order.club_id)
            if link is None or link.status is not LinkStatus.ACTIVE or not order.broker_order_id:
                continue
            try:
                [note] = await self.kite_api(link).order_charges([charges_request(order)])
                charges = contract_note_charges(note)
            except BrokerLoginRequired as exc:
                await self.do_session_ended(order.club_id, str(exc))
                continue
            except (BrokerError, ValueError, TypeError, KeyError) as exc:
                log.warning("contract note not read", order_id=str(order.id), error=str(exc))
                continue
            if await order_service.do_settle_charges(str(order.id), charges, "kite"):
                settled += 1
        return settled

    # ---- positions -------------------------------------------------------------------------

    async def do_check_positions(self, club_id: str) -> PositionCheck | None:
        """Compare the club's holdings (books) with the broker's positions, by symbol, and
        keep the result of the day (UTC); None when the club has no active link. Nothing is
        corrected: a difference is for the treasurer to look at."""
        link = await repository.link_of(club_id)
        if link is None or link.status is not LinkStatus.ACTIVE:
            return None
        books = await books_service.books(club_id)
        ours = {h.symbol: h.quantity for h in books.holdings if h.quantity}
        theirs: dict[str, int] = {}
        error = ""
        try:
            if link.provider is BrokerProvider.KITE:
                net = (await self.kite_api(link).positions()).get("net") or []
                for row in net:
                    exchange, symbol = str(row.get("exchange", "NSE")), str(row["tradingsymbol"])
                    name = symbol if exchange == "NSE" else f"{exchange}:{symbol}"
                    theirs[name] = theirs.get(name, 0) + int(row.get("quantity") or 0)
            else:
                for row in await self.alpaca_api(link).positions():
                    theirs[str(row["symbol"])] = int(str(row.get("qty") or 0))
        except BrokerLoginRequired as exc:
            await self.do_session_ended(club_id, str(exc))
            error = describe(link.provider, exc)
        except (BrokerError, ValueError, TypeError, KeyError) as exc:
            log.warning("positions not compared", club_id=club_id, error=str(exc))
            error = describe(link.provider, exc)
        differences = (
            []
            if error
            else [
                PositionDifference(symbol=s, books=ours.get(s, 0), broker=theirs.get(s, 0))
                for s in sorted(set(ours) | set(theirs))
                if ours.get(s, 0) != theirs.get(s, 0)
            ]
        )
        check = PositionCheck(
            club_id=club_id,
            check_date=utcnow().date().isoformat(),
            provider=link.provider,
            ok=not error and not differences,
            differences=differences,
            error=error,
        )
        await repository.save_position_check(check)
        if differences:
            log.warning(
                "holdings differ from the broker's positions",
                club_id=club_id,
                differences=[d.model_dump() for d in differences],
            )
        return check

    async def do_check_all_positions(self) -> int:
        """The daily comparison for every active link; how many were compared."""
        done = 0
        for link in await repository.links():
            if await self.do_check_positions(link.club_id) is not None:
                done += 1
        return done

    async def check_now(self, club_id: str, actor_id: str) -> BrokerLinkOut:
        """Compare now (owner/admin/treasurer) and answer the link with the result. Raises
        ``ClubNotFound``, ``RoleRequired``, ``BrokerLinkNotFound``."""
        await club_service.check_member(club_id, actor_id, TREASURY)
        if await repository.link_of(club_id) is None:
            raise BrokerLinkNotFound("this club has no linked broker account")
        await self.do_check_positions(club_id)
        return await self.view(club_id, actor_id)


def _unavailable(exc: Exception, details: dict[str, Any] | None = None) -> ServiceUnavailable:
    return ServiceUnavailable(f"the broker is not answering: {exc}", details=details)


broker_service = BrokerService()
