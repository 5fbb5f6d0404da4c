"""Clubs and membership: create, invite, join, leave, remove, change roles (docs/domain.md,
"Investment clubs"). Every change is audited on the club's chain. A non-member gets
``ClubNotFound`` for everything, so a club's existence is never revealed."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Awaitable, Callable, Collection, Mapping
from enum import StrEnum

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.audit.service import audit_service, club_chain
from app.clubs import repository
from app.clubs.documents import (
    Club,
    ClubRole,
    Invite,
    Membership,
    MembershipStatus,
    RulesAuthority,
    TieRule,
    VotingMode,
)
from app.clubs.errors import (
    AlreadyMember,
    ClubNotFound,
    InviteUnusable,
    LastOwner,
    MemberNotFound,
    NoRulesChange,
    PendingMoney,
    PersonalAccount,
    RoleRequired,
    RulesByOwners,
    RulesNeedVote,
    UnitsOutstanding,
)
from app.clubs.events import (
    RULES_CHANGED,
    WATCHLIST_CHANGED,
    RulesChangedEvent,
    WatchlistChangedEvent,
)
from app.clubs.schemas import rules_out
from app.config import get_settings
from app.db import run_in_transaction
from app.mail.sender import send_mail
from app.market.service import market_service
from app.money import money_text
from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.realtime import events
from app.realtime.rooms import club_room

MANAGERS = (ClubRole.OWNER, ClubRole.ADMIN)
# The rules a club may change after creation (docs/domain.md, "Changing the rules").
RULES = frozenset({"voting_mode", "approval_threshold_bps", "quorum_bps", "tie_rule",
                   "hide_running_results", "withdrawal_fee_bps", "rules_changed_by",
                   "dues_amount", "dues_day", "dues_grace_days", "dues_late_fee"})  # fmt: skip
TREASURY = (ClubRole.OWNER, ClubRole.ADMIN, ClubRole.TREASURER)


def _plain(value: object) -> object:
    """A rule's value as stored and audited (an enum as its string)."""
    return value.value if isinstance(value, StrEnum) else value


RULE_NAMES = {
    "voting_mode": "voting",
    "approval_threshold_bps": "approval threshold",
    "quorum_bps": "quorum",
    "tie_rule": "a vote exactly at the threshold",
    "hide_running_results": "running results hidden",
    "withdrawal_fee_bps": "withdrawal fee",
    "rules_changed_by": "rules changed by",
    "dues_amount": "monthly dues",
    "dues_day": "dues day of the month",
    "dues_grace_days": "grace days",
    "dues_late_fee": "late fee",
}


def rule_text(name: str, value: object, currency: str) -> str:
    """One rule's value in words (percentages for basis points, amounts with their currency),
    for the members' notice of a change."""
    if value is None:
        return "none"
    if name.endswith("_bps") and isinstance(value, int):
        return f"{value / 100:g} %"
    if name in ("dues_amount", "dues_late_fee") and isinstance(value, int):
        return money_text(value, currency)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ")


def invite_mail_text(club: Club, inviter: str, url: str, expires_at: dt.datetime) -> str:
    """The body of an invite mail: who invites you to which club, its rules, the link."""
    quorum = ""
    if club.quorum_bps:
        quorum = f", when at least {club.quorum_bps / 100:g} % of the club votes"
    return (
        f"{inviter} invites you to join {club.name} on Samooh.\n\n"
        + (f"{club.description}\n\n" if club.description else "")
        + "The club's rules:\n"
        + ("- Votes count by units held.\n" if club.voting_mode is VotingMode.WEIGHTED
           else "- One member, one vote.\n")
        + f"- A proposal passes with {club.approval_threshold_bps / 100:g} % of the yes and no "
        f"votes{quorum}.\n"
        + f"- Money is held in {club.currency}.\n\n"
        + f"Join here: {url}\n(The link works until {expires_at:%d %b %Y %H:%M} UTC.)\n"
    )  # fmt: skip


def hash_token(token: str) -> str:
    """SHA-256 hex of an invite token (only the hash is stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


MembershipEnded = Callable[[str, str, str], Awaitable[None]]
# What money of a member is still in flight in the club, by kind (club id, user id, session)
# -> counts: the books register it (app/books/service.py), so a member cannot leave with it.
PendingMoneyOf = Callable[[str, str, AsyncClientSession], Awaitable[dict[str, int]]]


class ClubService:
    """Clubs, memberships, invites and roles. Takes the acting user's id explicitly."""

    def __init__(self) -> None:
        self._membership_hooks: list[MembershipEnded] = []
        self._pending_money: PendingMoneyOf | None = None

    async def check_member(
        self,
        club_id: str,
        user_id: str,
        roles: tuple[ClubRole, ...] | None = None,
        session: AsyncClientSession | None = None,
    ) -> tuple[Club, Membership]:
        """The club and the actor's active membership.

        Raises:
            ClubNotFound: no such club, or the actor is not an active member.
            RoleRequired: the actor's role is not in ``roles``.
        """
        club = await repository.get_club(club_id, session)
        membership = await repository.get_membership(club_id, user_id, session) if club else None
        if club is None or membership is None or membership.status != MembershipStatus.ACTIVE:
            raise ClubNotFound("no such club")
        if roles is not None and membership.role not in roles:
            raise RoleRequired(
                f"this needs one of the roles: {', '.join(r.value for r in roles)}",
                details={"required": [r.value for r in roles], "role": membership.role.value},
            )
        return club, membership

    async def do_create_club(
        self,
        actor_id: str,
        *,
        name: str,
        description: str = "",
        currency: str = "INR",
        starting_unit_value: int = 1000,
        voting_mode: VotingMode = VotingMode.SIMPLE,
        approval_threshold_bps: int = 6000,
        quorum_bps: int | None = None,
        tie_rule: TieRule = TieRule.REJECT,
        withdrawal_fee_bps: int = 0,
        hide_running_results: bool = False,
        personal: bool = False,
    ) -> tuple[Club, Membership]:
        """Create a club with the actor as its owner. Amounts in paise, rates in basis points
        (validated by the request schema). ``personal``: a robo-advice personal account (one
        member, not listed among clubs, no invites)."""

        async def body(session: AsyncClientSession) -> tuple[Club, Membership]:
            club = Club(
                name=name, description=description, currency=currency,
                starting_unit_value=starting_unit_value, voting_mode=voting_mode,
                approval_threshold_bps=approval_threshold_bps, quorum_bps=quorum_bps,
                tie_rule=tie_rule, withdrawal_fee_bps=withdrawal_fee_bps, created_by=actor_id,
                hide_running_results=hide_running_results, personal=personal,
            )  # fmt: skip
            await repository.insert_club(club, session)
            club_id = str(club.id)
            owner = Membership(club_id=club_id, user_id=actor_id, role=ClubRole.OWNER)
            await repository.insert_membership(owner, session)
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="club.created",
                target_type="club", target_id=club_id,
                details={"name": name, "voting_mode": voting_mode.value,
                         "approval_threshold_bps": approval_threshold_bps,
                         "quorum_bps": quorum_bps, "tie_rule": tie_rule.value,
                         "withdrawal_fee_bps": withdrawal_fee_bps,
                         "starting_unit_value": starting_unit_value},
                session=session,
            )  # fmt: skip
            return club, owner

        return await run_in_transaction(body)

    async def list_clubs(
        self, user_id: str, include_personal: bool = False
    ) -> list[tuple[Club, Membership]]:
        """The clubs the user is an active member of, with their membership; robo-advice
        personal accounts only with ``include_personal`` (they are listed under advice)."""
        pairs = await repository.clubs_of_user(user_id)
        return [(c, m) for c, m in pairs if include_personal or not c.personal]

    async def members(self, club_id: str, actor_id: str) -> list[Membership]:
        """Active members (any member may see them). Raises ``ClubNotFound``."""
        await self.check_member(club_id, actor_id)
        return await repository.active_memberships(club_id)

    async def do_create_invite(
        self,
        club_id: str,
        actor_id: str,
        *,
        expires_in: dt.timedelta,
        max_uses: int,
        emails: list[str] | None = None,
        inviter_name: str = "A member",
    ) -> tuple[Invite, str]:
        """Make an invite link token (owner/admin). Returns the invite and the plain token,
        which is shown once and stored only as a hash. The link is also mailed to ``emails``
        (naming the club, the inviter and its rules), after the invite is stored. Raises
        ``PersonalAccount`` (409) for a robo-advice personal account."""
        club, _ = await self.check_member(club_id, actor_id, MANAGERS)
        if club.personal:
            raise PersonalAccount("a personal account has one member and takes no invites")
        token = secrets.token_urlsafe(24)
        invite = Invite(
            club_id=club_id, token_hash=hash_token(token), created_by=actor_id,
            expires_at=dt.datetime.now(dt.UTC) + expires_in, max_uses=max_uses,
        )  # fmt: skip
        await repository.insert_invite(invite)
        await audit_service.do_append(
            chain=club_chain(club_id), actor_id=actor_id, action="invite.created",
            target_type="invite", target_id=str(invite.id),
            details={"max_uses": max_uses, "expires_at": invite.expires_at.isoformat(),
                     "mailed_to": len(emails or [])},
        )  # fmt: skip
        settings = get_settings()
        for address in dict.fromkeys(emails or []):
            await send_mail(
                settings, to=address, subject=f"{inviter_name} invites you to {club.name}",
                body=invite_mail_text(club, inviter_name, f"{settings.public_url}/join/{token}",
                                      invite.expires_at),
            )  # fmt: skip
        return invite, token

    async def do_revoke_invite(self, club_id: str, invite_id: str, actor_id: str) -> Invite:
        """Revoke an invite (owner/admin). Raises ``InviteUnusable`` for an unknown one."""
        await self.check_member(club_id, actor_id, MANAGERS)
        invite = await repository.get_invite(invite_id)
        if invite is None or invite.club_id != club_id:
            raise InviteUnusable("no such invite", details={"reason": "unknown"})
        await repository.revoke_invite(invite.id)
        invite.revoked = True
        await audit_service.do_append(
            chain=club_chain(club_id), actor_id=actor_id, action="invite.revoked",
            target_type="invite", target_id=invite_id,
        )  # fmt: skip
        return invite

    async def check_invite(self, token: str) -> tuple[Invite, Club]:
        """The invite a join link carries and its club, if the link can still be used (what the
        invite page shows before joining; the acceptance checks again atomically).

        Raises:
            InviteUnusable: unknown, revoked, expired or used up (``details.reason``).
        """
        invite = await repository.find_invite(hash_token(token))
        if invite is None:
            raise InviteUnusable("this invite link is not valid", details={"reason": "unknown"})
        if invite.revoked:
            raise InviteUnusable("this invite was revoked", details={"reason": "revoked"})
        expires = invite.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        if expires <= dt.datetime.now(dt.UTC):
            raise InviteUnusable("this invite has expired", details={"reason": "expired"})
        if invite.uses >= invite.max_uses:
            raise InviteUnusable("this invite is used up", details={"reason": "used_up"})
        club = await repository.get_club(invite.club_id)
        if club is None:
            raise InviteUnusable("this invite is not valid", details={"reason": "unknown"})
        return invite, club

    async def do_accept_invite(self, token: str, user_id: str) -> tuple[Club, Membership]:
        """Join the invite's club. The use is counted atomically (never beyond ``max_uses``).

        Raises:
            InviteUnusable: unknown, revoked, expired or used up (``details.reason``).
            AlreadyMember: the user is an active member already (the use is not counted).
        """
        token_hash = hash_token(token)

        async def body(session: AsyncClientSession) -> tuple[Club, Membership]:
            invite = await repository.find_invite(token_hash, session)
            if invite is None:
                raise InviteUnusable("this invite link is not valid", details={"reason": "unknown"})
            if invite.revoked:
                raise InviteUnusable("this invite was revoked", details={"reason": "revoked"})
            expires = invite.expires_at
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.UTC)
            if expires <= dt.datetime.now(dt.UTC):
                raise InviteUnusable("this invite has expired", details={"reason": "expired"})
            club = await repository.get_club(invite.club_id, session)
            if club is None:
                raise InviteUnusable("this invite is not valid", details={"reason": "unknown"})
            existing = await repository.get_membership(invite.club_id, user_id, session)
            if existing is not None and existing.status == MembershipStatus.ACTIVE:
                raise AlreadyMember("you are already a member of this club")
            if not await repository.use_invite(invite, session):
                raise InviteUnusable("this invite is used up", details={"reason": "used_up"})
            if existing is not None:
                await repository.update_membership(
                    existing.id,
                    {"status": MembershipStatus.ACTIVE.value, "role": ClubRole.MEMBER.value,
                     "joined_at": dt.datetime.now(dt.UTC)},
                    session,
                )  # fmt: skip
                membership = await repository.get_membership(invite.club_id, user_id, session)
                assert membership is not None
            else:
                membership = Membership(club_id=invite.club_id, user_id=user_id)
                await repository.insert_membership(membership, session)
            await audit_service.do_append(
                chain=club_chain(invite.club_id), actor_id=user_id, action="member.joined",
                target_type="membership", target_id=user_id,
                details={"invite_id": str(invite.id)}, session=session,
            )  # fmt: skip
            return club, membership

        try:
            return await run_in_transaction(body)
        except DuplicateKeyError as exc:  # two concurrent accepts by the same user
            raise AlreadyMember("you are already a member of this club") from exc

    async def do_change_role(
        self, club_id: str, actor_id: str, user_id: str, role: ClubRole
    ) -> Membership:
        """Change a member's role (owner/admin; only an owner grants or takes ownership).

        Raises:
            RoleRequired, ClubNotFound, MemberNotFound, LastOwner.
        """

        async def body(session: AsyncClientSession) -> Membership:
            _, actor = await self.check_member(club_id, actor_id, MANAGERS, session)
            target = await repository.get_membership(club_id, user_id, session)
            if target is None or target.status != MembershipStatus.ACTIVE:
                raise MemberNotFound("no such member")
            touches_owner = ClubRole.OWNER in (role, target.role)
            if touches_owner and actor.role != ClubRole.OWNER:
                raise RoleRequired(
                    "only an owner can grant or take ownership",
                    details={"required": ["owner"], "role": actor.role.value},
                )
            demoting_owner = target.role == ClubRole.OWNER and role != ClubRole.OWNER
            if demoting_owner and await repository.count_owners(club_id, session) <= 1:
                raise LastOwner("the club's last owner cannot be demoted")
            previous = target.role
            await repository.bump_money_seq(club_id, session)  # serialise role changes too
            await repository.update_membership(target.id, {"role": role.value}, session)
            target.role = role
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="member.role_changed",
                target_type="membership", target_id=user_id,
                details={"from": previous.value, "to": role.value}, session=session,
            )  # fmt: skip
            return target

        return await run_in_transaction(body)

    async def do_change_rules(
        self, club_id: str, actor_id: str, changes: dict[str, object]
    ) -> tuple[Club, Membership]:
        """Change the club's rules (owners only): voting mode, threshold, quorum, tie rule,
        running-results rule, withdrawal fee, monthly dues (amount, due day, grace days, late
        fee; dues start counting the month they are first set), and who changes them
        (``rules_changed_by``).
        Audited with the rules before and after; every open screen hears
        ``club:rules_changed``; open proposals keep the rules they were opened with. Once a club
        changes its rules by vote, owners no longer patch them (only a rules proposal does,
        app/proposals).

        Raises:
            RoleRequired (not an owner), ClubNotFound, RulesNeedVote (409: rules by vote).
        """
        changes = {k: v for k, v in changes.items() if k in RULES}
        room = club_room(club_id)
        await events.ensure_room(room)
        told = await self.prepare_rules_notice(club_id)

        async def body(session: AsyncClientSession) -> tuple[Club, Membership]:
            club, actor = await self.check_member(club_id, actor_id, (ClubRole.OWNER,), session)
            if club.rules_changed_by is RulesAuthority.VOTE and changes:
                raise RulesNeedVote(
                    "This club changes its rules by a members' vote: propose the change.",
                    details={"rules_changed_by": club.rules_changed_by.value},
                )
            await self._apply_rules(session, club, changes, actor_id=actor_id, proposal_id=None,
                                    told=told)  # fmt: skip
            updated = await repository.get_club(club_id, session)
            assert updated is not None
            return updated, actor

        return await run_in_transaction(body)

    def check_rules_proposal(self, club: Club, changes: dict[str, object]) -> dict[str, object]:
        """The rules a proposal may put to the vote: the club must change its rules by vote
        (``RulesByOwners`` otherwise) and the proposal must change at least one of them
        (``NoRulesChange``). Returns the changes, by name, as stored."""
        if club.rules_changed_by is not RulesAuthority.VOTE:
            raise RulesByOwners(
                "In this club the owners change the rules; a rules proposal needs the owners "
                "to let members vote on them first.",
                details={"rules_changed_by": club.rules_changed_by.value},
            )
        wanted = {k: _plain(v) for k, v in changes.items() if k in RULES}
        if all(_plain(getattr(club, k, None)) == v for k, v in wanted.items()):
            raise NoRulesChange("This proposal would not change any of the club's rules.")
        return wanted

    async def prepare_rules_notice(self, club_id: str) -> list[str]:
        """The members to tell of a change of the club's rules, their inboxes ready (call it
        before the transaction that changes them; pass the list to it)."""
        members = [m.user_id for m in await repository.active_memberships(club_id)]
        await notification_service.prepare(members)
        return members

    async def do_apply_voted_rules(
        self, session: AsyncClientSession, club_id: str, proposal_id: str,
        changes: Mapping[str, object], told: Collection[str] = (),
    ) -> Club:  # fmt: skip
        """Inside an approved rules proposal's close (its transaction; ``ensure_room`` of the
        club room and ``prepare_rules_notice`` done by the caller, whose list is ``told``): the
        club's rules become ``changes``, audited with before and after and the proposal's id,
        every open screen hears ``club:rules_changed`` and the members are told. Raises
        ``ClubNotFound``."""
        club = await repository.get_club(club_id, session)
        if club is None:
            raise ClubNotFound("no such club")
        changes = {k: v for k, v in changes.items() if k in RULES}
        await self._apply_rules(session, club, changes, actor_id=None, proposal_id=proposal_id,
                                told=told)  # fmt: skip
        updated = await repository.get_club(club_id, session)
        assert updated is not None
        return updated

    async def _apply_rules(
        self, session: AsyncClientSession, club: Club, changes: dict[str, object], *,
        actor_id: str | None, proposal_id: str | None, told: Collection[str],
    ) -> None:  # fmt: skip
        club_id = str(club.id)
        before = {k: _plain(getattr(club, k, None)) for k in sorted(RULES)}
        after = {**before, **{k: _plain(v) for k, v in changes.items()}}
        if after == before:
            return
        await repository.bump_money_seq(club_id, session)  # one change at a time
        stored = dict(changes)
        if after.get("dues_amount") and not before.get("dues_amount"):
            stored["dues_since"] = dt.datetime.now(dt.UTC).strftime("%Y-%m")  # dues start now
        await repository.update_club(club_id, stored, session)
        details: dict[str, object] = {"before": before, "after": after}
        if proposal_id is not None:
            details["proposal_id"] = proposal_id
        await audit_service.do_append(
            chain=club_chain(club_id), actor_id=actor_id, action="club.rules_changed",
            target_type="club", target_id=club_id, details=details, session=session,
        )  # fmt: skip
        await events.room_event(
            session, club_room(club_id), RULES_CHANGED, RulesChangedEvent, club_id=club_id,
            rules=rules_out(after), before=rules_out(before), changed_by=actor_id,
            proposal_id=proposal_id,
        )  # fmt: skip
        # Every member is told what changed, from what to what (inbox, e-mail).
        changed = "; ".join(
            f"{RULE_NAMES.get(k, k)}: {rule_text(k, before[k], club.currency)} → "
            f"{rule_text(k, after[k], club.currency)}"
            for k in sorted(after)
            if after[k] != before[k]
        )
        ready = set(told)  # their inboxes exist (``prepare_rules_notice``)
        members = [m.user_id for m in await repository.all_memberships(club_id, session)
                   if m.status is MembershipStatus.ACTIVE and m.user_id != actor_id
                   and m.user_id in ready]  # fmt: skip
        stamp = secrets.token_hex(4)
        await notification_service.do_store(session, [Draft(
            user_id=user, kind=NotificationKind.CLUB_RULES_CHANGED,
            title=f"The rules of {club.name} changed",
            body=changed + (" (voted by the members)." if proposal_id else "."),
            club_id=club_id, ref_type="club", ref_id=club_id,
            dedupe_key=f"rules:{club_id}:{proposal_id or stamp}:{user}",
        ) for user in members])  # fmt: skip

    async def clubs_with_dues(self) -> list[Club]:
        """Every club whose members owe monthly dues (the dues timer)."""
        return await repository.clubs_with_dues()

    async def do_set_watchlist(self, club_id: str, actor_id: str, symbols: list[str]) -> Club:
        """Replace the club's watch-list (owner/admin/treasurer); symbols must exist in the
        market catalogue. Every member's screen gets ``watchlist:changed`` (room log) and the
        room starts receiving the new symbols' quotes.

        Raises ``RoleRequired``, ``ClubNotFound``, ``UnknownSymbols``."""
        await self.check_member(club_id, actor_id, TREASURY)
        await market_service.check_symbols(symbols)
        room = club_room(club_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> Club:
            club, _ = await self.check_member(club_id, actor_id, TREASURY, session)
            await repository.update_club(club_id, {"watchlist": symbols}, session)
            club.watchlist = symbols
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="watchlist.changed",
                target_type="club", target_id=club_id, details={"symbols": symbols},
                session=session,
            )  # fmt: skip
            await events.room_event(
                session, room, WATCHLIST_CHANGED, WatchlistChangedEvent,
                club_id=club_id, symbols=symbols, changed_by=actor_id,
            )  # fmt: skip
            sync = functools.partial(
                market_service.do_sync_club_symbols, club_id, set(symbols), "watchlist"
            )
            await events.after_commit(sync)
            return club

        return await run_in_transaction(body)

    async def do_leave(self, club_id: str, user_id: str) -> None:
        """Leave the club. Raises ``LastOwner`` for the last owner, ``UnitsOutstanding``
        while the member still holds units and ``PendingMoney`` (409
        ``member_has_pending_money``) while a contribution, withdrawal or charge of theirs is
        not settled yet (docs/domain.md, leaving a club)."""
        await self._end_membership(club_id, user_id, user_id, MembershipStatus.LEFT)

    async def do_remove_member(self, club_id: str, actor_id: str, user_id: str) -> None:
        """Remove a member (owner/admin; an admin cannot remove an owner)."""
        _, actor = await self.check_member(club_id, actor_id, MANAGERS)
        target = await repository.get_membership(club_id, user_id)
        if target is None or target.status != MembershipStatus.ACTIVE:
            raise MemberNotFound("no such member")
        if target.role == ClubRole.OWNER and actor.role != ClubRole.OWNER:
            raise RoleRequired("only an owner can remove an owner", details={"required": ["owner"]})
        await self._end_membership(club_id, actor_id, user_id, MembershipStatus.REMOVED)

    async def _end_membership(
        self, club_id: str, actor_id: str, user_id: str, status: MembershipStatus
    ) -> None:
        async def body(session: AsyncClientSession) -> None:
            await self.check_member(club_id, actor_id, None, session)
            target = await repository.get_membership(club_id, user_id, session)
            if target is None or target.status != MembershipStatus.ACTIVE:
                raise MemberNotFound("no such member")
            if (
                target.role == ClubRole.OWNER
                and await repository.count_owners(club_id, session) <= 1
            ):
                raise LastOwner("the club's last owner cannot leave; make another owner first")
            if target.units > 0:
                raise UnitsOutstanding(
                    "this member still holds units: withdraw in full first",
                    details={"units": target.units},
                )
            await repository.bump_money_seq(club_id, session)  # serialised with the books
            pending = (await self._pending_money(club_id, user_id, session)
                       if self._pending_money is not None else {})  # fmt: skip
            if any(pending.values()):
                raise PendingMoney(
                    "this member still has money in flight: a contribution not yet turned into "
                    "units, or a withdrawal or charge not yet settled",
                    details={kind: n for kind, n in pending.items() if n},
                )
            await repository.update_membership(target.id, {"status": status.value}, session)
            await events.after_commit(functools.partial(
                self._membership_ended, club_id, user_id, status.value))  # fmt: skip
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id,
                action="member.left" if status == MembershipStatus.LEFT else "member.removed",
                target_type="membership", target_id=user_id, session=session,
            )  # fmt: skip

        await run_in_transaction(body)

    def on_pending_money(self, source: PendingMoneyOf) -> None:
        """Let ending a membership see the member's money still in flight (the books register
        ``books_service.pending_money`` when they load): leaving or removal is refused with
        ``member_has_pending_money`` while any is."""
        self._pending_money = source

    def on_membership_ended(self, hook: MembershipEnded) -> None:
        """Call ``hook(club_id, user_id, reason)`` after a membership ends (a member left or was
        removed). The composition root registers the club room's eviction here (app/__init__),
        so this domain needs no knowledge of sockets. Registering the same hook again changes
        nothing."""
        if hook not in self._membership_hooks:
            self._membership_hooks.append(hook)

    async def _membership_ended(self, club_id: str, user_id: str, reason: str) -> None:
        for hook in self._membership_hooks:
            await hook(club_id, user_id, reason)

    async def search(
        self, q: str | None, page: int, page_size: int
    ) -> tuple[list[Club], dict[str, int], int]:
        """Clubs whose name contains ``q`` (platform admins' list), newest first: one page,
        each club's active member count, and how many match in all."""
        clubs, total = await repository.search_clubs(q, (page - 1) * page_size, page_size)
        counts = await repository.active_member_counts([str(c.id) for c in clubs])
        return clubs, counts, total

    async def active_members(
        self, club_id: str, session: AsyncClientSession | None = None
    ) -> list[Membership]:
        """The club's active memberships, by joining date (no actor check: domain code)."""
        return await repository.active_memberships(club_id, session)

    async def clubs_of(self, user_id: str) -> list[tuple[Club, Membership]]:
        """The clubs a person is an active member of, with their memberships."""
        return await repository.clubs_of_user(user_id)

    # ---- for the books (app/books): the club's side of money changes -----------------

    async def get(self, club_id: str, session: AsyncClientSession | None = None) -> Club | None:
        """The club, or None (no membership check: for domain code, not for requests)."""
        return await repository.get_club(club_id, session)

    async def memberships(
        self, club_id: str, session: AsyncClientSession | None = None
    ) -> list[Membership]:
        """Every membership of the club, active or not, by joining date."""
        return await repository.all_memberships(club_id, session)

    async def membership(
        self, club_id: str, user_id: str, session: AsyncClientSession | None = None
    ) -> Membership | None:
        """One person's membership of the club (active or not), or None."""
        return await repository.get_membership(club_id, user_id, session)

    async def do_bump_money_seq(self, club_id: str, session: AsyncClientSession) -> None:
        """Touch the club inside a money transaction so two of them never interleave (the
        second conflicts and is retried by the driver)."""
        await repository.bump_money_seq(club_id, session)

    async def do_move_units(
        self,
        club_id: str,
        user_id: str,
        session: AsyncClientSession,
        *,
        units: int,
        paid_in: int = 0,
        withdrawn: int = 0,
    ) -> None:
        """Add ``units`` micro-units (negative: redeem) and the paise ``paid_in`` /
        ``withdrawn`` to a member's capital account, inside the books' transaction."""
        await repository.inc_membership(
            club_id, user_id, {"units": units, "paid_in": paid_in, "withdrawn": withdrawn}, session
        )

    async def do_mark_valued(self, club_id: str, day: str, session: AsyncClientSession) -> None:
        """Record ``day`` (ISO date) as the club's last valuation date."""
        await repository.update_club(club_id, {"last_valuation_date": day}, session)


club_service = ClubService()
