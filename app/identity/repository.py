"""Every query of the identity domain: MongoDB (users, codes, security events, sequences) and
Redis (sessions = refresh-token families, login failures, OAuth state, MFA hand-offs, sockets).

Redis keys (``samooh:auth:`` prefix):
  ``rt:<sha256(refresh token)>``  hash {family, user, used}; lives as long as the token
  ``fam:<family>``                hash {user, created, amr}; exists while the session is valid
  ``user:<id>:fams``              set of the user's families (to revoke them all)
  ``fail:<email>``                failed logins in a row (expires an hour after the last)
  ``lock:<email>``                present while the e-mail is locked (TTL = lock length)
  ``oauth:<state>``               JSON {verifier, nonce} of one authorization request (10 min)
  ``mfa:<token>``                 user id waiting for a second factor (5 min)
  ``sockets:<user id>``           set of the user's Socket.IO sids (to disconnect them)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError
from redis.asyncio import Redis

from app.identity.documents import (
    CodePurpose,
    EmailCode,
    SecurityEvent,
    Sequence,
    User,
    UserStatus,
)

PREFIX = "samooh:auth:"


# ---------------------------------------------------------------------------------------------
# users


async def user_by_id(user_id: str | PydanticObjectId) -> User | None:
    """The user with ``user_id``, or None (also for an id that is not an ObjectId)."""
    try:
        oid = PydanticObjectId(user_id)
    except Exception:
        return None
    return await User.get(oid)


async def users_by_id(ids: list[str]) -> dict[str, User]:
    """The users among ``ids`` (strings; invalid ones are skipped), by id."""
    oids = []
    for value in set(ids):
        try:
            oids.append(PydanticObjectId(value))
        except (InvalidId, TypeError, ValueError):
            continue
    return {str(u.id): u for u in await User.find({"_id": {"$in": oids}}).to_list()}


async def user_by_email(email: str) -> User | None:
    """The user with this (already normalised) e-mail address."""
    return await User.find_one({"email": email})


async def user_by_member_id(member_id: str) -> User | None:
    """The user given this Samooh member ID (``UCFSIN-<year>-<6 digits>``) at verification."""
    return await User.find_one({"member_id": member_id})


async def user_by_oauth(provider: str, subject: str) -> User | None:
    """The user linked to the external identity ``provider`` + ``subject``."""
    return await User.find_one(
        {"oauth": {"$elemMatch": {"provider": provider, "subject": subject}}}
    )


async def insert_user(user: User) -> User:
    """Insert a new user. Raises ``DuplicateKeyError`` when the e-mail is taken."""
    return await user.insert()


async def update_user(
    user_id: PydanticObjectId,
    changes: dict[str, Any],
    *,
    guard: dict[str, Any] | None = None,
    session: AsyncClientSession | None = None,
) -> User | None:
    """``$set`` ``changes`` (plus ``updated_at``) on the user if it matches ``guard``; return the
    user after the change, or None when the guard did not match."""
    raw = await User.get_pymongo_collection().find_one_and_update(
        {"_id": user_id, **(guard or {})},
        {"$set": {**changes, "updated_at": dt.datetime.now(dt.UTC)}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return None if raw is None else User.model_validate(raw)


async def add_oauth_link(user_id: PydanticObjectId, link: dict[str, Any]) -> User | None:
    """Link an external identity to an ACTIVE user (``$push``, once per provider+subject);
    return the user after, or None when it is not ACTIVE or already linked."""
    raw = await User.get_pymongo_collection().find_one_and_update(
        {
            "_id": user_id,
            "status": UserStatus.ACTIVE.value,
            "oauth": {
                "$not": {"$elemMatch": {"provider": link["provider"], "subject": link["subject"]}}
            },
        },
        {"$push": {"oauth": link}, "$set": {"updated_at": dt.datetime.now(dt.UTC)}},
        return_document=ReturnDocument.AFTER,
    )
    return None if raw is None else User.model_validate(raw)


async def accept_totp_step(user_id: PydanticObjectId, step: int) -> bool:
    """Record ``step`` as the last used TOTP step unless that step (or a later one) was used
    already. Atomic, so two requests with the same code cannot both pass."""
    result = await User.get_pymongo_collection().update_one(
        {"_id": user_id, "mfa.last_step": {"$lt": step}}, {"$set": {"mfa.last_step": step}}
    )
    return result.modified_count == 1


async def use_recovery_code(user_id: PydanticObjectId, code_hash: str) -> bool:
    """Remove one recovery-code hash; True only for the one request that removed it."""
    result = await User.get_pymongo_collection().update_one(
        {"_id": user_id, "mfa.recovery_code_hashes": code_hash},
        {"$pull": {"mfa.recovery_code_hashes": code_hash}},
    )
    return result.modified_count == 1


@dataclass(frozen=True, slots=True)
class UserPage:
    """One page of a user search, with the total number of matches."""

    items: list[User]
    total: int


async def search_users(
    *, query: str | None, status: UserStatus | None, role: str | None, page: int, page_size: int
) -> UserPage:
    """Users whose e-mail, name or member id contains ``query`` (case-insensitive), filtered by
    status and role, newest first."""
    flt: dict[str, Any] = {}
    if query:
        pattern = {"$regex": re.escape(query.strip()), "$options": "i"}
        flt["$or"] = [{"email": pattern}, {"full_name": pattern}, {"member_id": pattern}]
    if status is not None:
        flt["status"] = status.value
    if role:
        flt["roles"] = role
    total = await User.find(flt).count()
    items = (
        await User.find(flt)
        .sort("-created_at")
        .skip((page - 1) * page_size)
        .limit(page_size)
        .to_list()
    )
    return UserPage(items=items, total=total)


# ---------------------------------------------------------------------------------------------
# sequences


async def ensure_sequence(name: str) -> None:
    """Create sequence ``name`` at value 0 unless it exists (call before the transaction that
    takes numbers from it: concurrent upserts are not relied on)."""
    collection = Sequence.get_pymongo_collection()
    if await collection.find_one({"_id": name}) is None:
        with contextlib.suppress(DuplicateKeyError):
            await collection.insert_one({"_id": name, "value": 0})


async def next_in_sequence(name: str, session: AsyncClientSession | None = None) -> int:
    """The next value (1, 2, …) of the existing sequence ``name``: ``$inc`` without upsert,
    returning the document AFTER — inside the caller's transaction, so an aborted use leaves
    no gap and concurrent uses never share a value."""
    raw = await Sequence.get_pymongo_collection().find_one_and_update(
        {"_id": name},
        {"$inc": {"value": 1}},
        upsert=False,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if raw is None:
        raise RuntimeError(f"sequence {name} does not exist: call ensure_sequence first")
    return int(raw["value"])


# ---------------------------------------------------------------------------------------------
# e-mailed codes


async def store_code(
    user_id: PydanticObjectId, purpose: CodePurpose, code_hash: str, expires_at: dt.datetime
) -> None:
    """Replace the user's live code for ``purpose`` (attempts back to 0)."""
    now = dt.datetime.now(dt.UTC)
    await EmailCode.get_pymongo_collection().update_one(
        {"user_id": user_id, "purpose": purpose.value},
        {
            "$set": {
                "code_hash": code_hash,
                "created_at": now,
                "expires_at": expires_at,
                "attempts": 0,
                "consumed_at": None,
            }
        },
        upsert=True,
    )


async def live_code(user_id: PydanticObjectId, purpose: CodePurpose) -> EmailCode | None:
    """The user's code for ``purpose`` (consumed or not), or None."""
    return await EmailCode.find_one({"user_id": user_id, "purpose": purpose.value})


async def count_code_attempt(
    user_id: PydanticObjectId, purpose: CodePurpose, max_attempts: int
) -> EmailCode | None:
    """Count one attempt on the unconsumed code if it has attempts left; return it after the
    count, or None when none is left (atomic: concurrent guesses never exceed the maximum)."""
    raw = await EmailCode.get_pymongo_collection().find_one_and_update(
        {
            "user_id": user_id,
            "purpose": purpose.value,
            "consumed_at": None,
            "attempts": {"$lt": max_attempts},
        },
        {"$inc": {"attempts": 1}},
        return_document=ReturnDocument.AFTER,
    )
    return None if raw is None else EmailCode.model_validate(raw)


async def consume_code(
    code_id: PydanticObjectId, session: AsyncClientSession | None = None
) -> bool:
    """Mark the code used; True only for the one caller that did."""
    result = await EmailCode.get_pymongo_collection().update_one(
        {"_id": code_id, "consumed_at": None},
        {"$set": {"consumed_at": dt.datetime.now(dt.UTC)}},
        session=session,
    )
    return result.modified_count == 1


# ---------------------------------------------------------------------------------------------
# security events


async def add_security_event(event: SecurityEvent) -> None:
    """Append a security event."""
    await event.insert()


async def anonymise_security_events(
    user_id: PydanticObjectId | None, email: str | None, replacement: str
) -> int:
    """Replace the address of every security event of ``user_id`` (any address) and of every
    event naming ``email`` without an account with ``replacement``; returns how many."""
    ors: list[dict[str, Any]] = []
    if user_id is not None:
        ors.append({"user_id": user_id})
    if email:
        ors.append({"email": email, "user_id": None})
    if not ors:
        return 0
    result = await SecurityEvent.get_pymongo_collection().update_many(
        {"$or": ors, "email": {"$ne": replacement}}, {"$set": {"email": replacement}}
    )
    return result.modified_count


async def security_events(
    *, user_id: PydanticObjectId | None, kind: str | None, limit: int
) -> list[SecurityEvent]:
    """Newest security events, optionally of one user and/or kind."""
    flt: dict[str, Any] = {}
    if user_id is not None:
        flt["user_id"] = user_id
    if kind:
        flt["kind"] = kind
    return await SecurityEvent.find(flt).sort("-at").limit(limit).to_list()


# ---------------------------------------------------------------------------------------------
# sessions: refresh-token families in Redis


def token_digest(token: str) -> str:
    """SHA-256 hex of a refresh token: Redis never holds a usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


# Rotate one refresh token atomically. KEYS: old token key, new token key. ARGV: ttl, prefix,
# grace (ms), the digest of the client's nonce ('' without one). Returns {outcome, user,
# family}: ok | retried | invalid | revoked | reused.
#
# A spent token records when it was spent (``used_at``, Redis time), its successor (``child``)
# and the digest of the nonce it was spent with. With a nonce the successor is derived from the
# token and the nonce (``refresh_successor``), so the same token and nonce presented again
# name the same successor: within the grace, while that successor is unused, it is the same
# client whose answer never arrived (a page reloaded while its refresh was in flight parks the
# token and nonce it was spending) and the successor is answered again (``retried``; nothing is
# written). Any other second use — no nonce, another nonce, too late, the successor already
# spent — revokes the whole family (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14: refresh
# token rotation), and with it every session of the same login: its root family (``root`` of
# a tab session) and each tab session opened from it (the set ``tree:<root>``, issue #20).
_ROTATE = """
local fields = redis.call('HMGET', KEYS[1], 'family', 'user', 'used', 'used_at', 'child', 'nonce')
local family, user, used = fields[1], fields[2], fields[3]
if not family then return {'invalid', '', ''} end
local famkey = ARGV[2] .. 'fam:' .. family
if redis.call('EXISTS', famkey) == 0 then return {'revoked', user, family} end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if used == '1' then
  local used_at, child, nonce = fields[4], fields[5], fields[6]
  if ARGV[4] ~= '' and nonce == ARGV[4] and child == KEYS[2] and used_at
     and now - tonumber(used_at) <= tonumber(ARGV[3])
     and redis.call('HGET', KEYS[2], 'used') == '0' then
    return {'retried', user, family}
  end
  local root = redis.call('HGET', famkey, 'root') or family
  local tree = ARGV[2] .. 'tree:' .. root
  local fams = redis.call('SMEMBERS', tree)
  table.insert(fams, root)
  table.insert(fams, family)
  for _, f in ipairs(fams) do
    redis.call('DEL', ARGV[2] .. 'fam:' .. f)
    redis.call('SREM', ARGV[2] .. 'user:' .. user .. ':fams', f)
  end
  redis.call('DEL', tree)
  return {'reused', user, family}
end
redis.call('HSET', KEYS[1], 'used', '1', 'used_at', tostring(now), 'child', KEYS[2],
           'nonce', ARGV[4])
redis.call('HSET', KEYS[2], 'family', family, 'user', user, 'used', '0')
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[1]))
redis.call('EXPIRE', famkey, tonumber(ARGV[1]))
redis.call('EXPIRE', ARGV[2] .. 'user:' .. user .. ':fams', tonumber(ARGV[1]))
return {'ok', user, family}
"""


# Open a tab session under a live parent session, atomically. KEYS: parent family key, new
# family key, new token key, the user's family set. ARGV: ttl, prefix, user, new family,
# created, amr, parent family. Returns 1, or 0 when the parent is revoked (nothing written):
# a reuse that revokes the login's sessions never misses a tab opened at the same moment.
_OPEN_TAB = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local root = redis.call('HGET', KEYS[1], 'root') or ARGV[7]
local ttl = tonumber(ARGV[1])
redis.call('HSET', KEYS[2], 'user', ARGV[3], 'created', ARGV[5], 'amr', ARGV[6], 'root', root)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('HSET', KEYS[3], 'family', ARGV[4], 'user', ARGV[3], 'used', '0')
redis.call('EXPIRE', KEYS[3], ttl)
redis.call('SADD', KEYS[4], ARGV[4])
redis.call('EXPIRE', KEYS[4], ttl)
local tree = ARGV[2] .. 'tree:' .. root
redis.call('SADD', tree, ARGV[4])
redis.call('EXPIRE', tree, ttl)
return 1
"""


@dataclass(frozen=True, slots=True)
class Rotation:
    """What rotating a refresh token found: ``ok``, ``retried`` (the same token and nonce
    again inside the grace: the same successor), ``invalid``, ``revoked`` or ``reused``."""

    outcome: str
    user_id: str
    family: str


class SessionStore:
    """Sessions (refresh-token families) in Redis."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._rotate = redis.register_script(_ROTATE)
        self._open_tab = redis.register_script(_OPEN_TAB)

    async def create(
        self, user_id: str, family: str, refresh_token: str, ttl: int, amr: list[str]
    ) -> None:
        """Start a session whose first refresh token is ``refresh_token``."""
        now = dt.datetime.now(dt.UTC).isoformat()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                f"{PREFIX}fam:{family}",
                mapping={"user": user_id, "created": now, "amr": ",".join(amr)},
            )
            pipe.expire(f"{PREFIX}fam:{family}", ttl)
            pipe.hset(
                f"{PREFIX}rt:{token_digest(refresh_token)}",
                mapping={"family": family, "user": user_id, "used": "0"},
            )
            pipe.expire(f"{PREFIX}rt:{token_digest(refresh_token)}", ttl)
            pipe.sadd(f"{PREFIX}user:{user_id}:fams", family)
            pipe.expire(f"{PREFIX}user:{user_id}:fams", ttl)
            await pipe.execute()

    async def create_tab(
        self, user_id: str, parent: str, family: str, refresh_token: str, ttl: int, amr: list[str]
    ) -> bool:
        """Start a tab session (``family``) opened from the live session ``parent``, in the
        same login's tree (see ``_OPEN_TAB``); False when ``parent`` is revoked or expired."""
        created = await self._open_tab(
            keys=[f"{PREFIX}fam:{parent}", f"{PREFIX}fam:{family}",
                  f"{PREFIX}rt:{token_digest(refresh_token)}", f"{PREFIX}user:{user_id}:fams"],
            args=[ttl, PREFIX, user_id, family, dt.datetime.now(dt.UTC).isoformat(),
                  ",".join(amr), parent],
        )  # fmt: skip
        return int(created) == 1

    async def rotate(self, old_token: str, new_token: str, ttl: int, *,
                     nonce: str | None = None, grace_seconds: int = 0) -> Rotation:  # fmt: skip
        """Exchange ``old_token`` for ``new_token`` in the same family (see ``_ROTATE``): with
        the client's ``nonce``, ``new_token`` must be ``refresh_successor(old_token, nonce)``
        and a repeat within ``grace_seconds`` answers ``retried``."""
        outcome, user, family = await self._rotate(
            keys=[f"{PREFIX}rt:{token_digest(old_token)}", f"{PREFIX}rt:{token_digest(new_token)}"],
            args=[ttl, PREFIX, grace_seconds * 1000, token_digest(nonce) if nonce else ""],
        )
        return Rotation(_text(outcome), _text(user), _text(family))

    async def family_of(self, refresh_token: str) -> tuple[str, str] | None:
        """(user id, family) of a refresh token, or None when unknown."""
        user, family = await self._redis.hmget(
            f"{PREFIX}rt:{token_digest(refresh_token)}", ["user", "family"]
        )
        if user is None or family is None:
            return None
        return _text(user), _text(family)

    async def owner(self, family: str) -> str | None:
        """The user id the session ``family`` belongs to while it is active; None once it is
        revoked or expired."""
        raw = await self._redis.hget(f"{PREFIX}fam:{family}", "user")
        return None if raw is None else _text(raw)

    async def amr(self, family: str) -> list[str]:
        """How the session authenticated (``pwd``, ``otp``, ``oauth``)."""
        raw = await self._redis.hget(f"{PREFIX}fam:{family}", "amr")
        return [a for a in _text(raw or b"").split(",") if a]

    async def revoke(self, user_id: str, family: str) -> None:
        """End one session."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(f"{PREFIX}fam:{family}")
            pipe.srem(f"{PREFIX}user:{user_id}:fams", family)
            await pipe.execute()

    async def revoke_all(self, user_id: str) -> int:
        """End every session of the user; return how many there were."""
        key = f"{PREFIX}user:{user_id}:fams"
        families = [_text(f) for f in await self._redis.smembers(key)]
        async with self._redis.pipeline(transaction=True) as pipe:
            for family in families:
                pipe.delete(f"{PREFIX}fam:{family}")
            pipe.delete(key)
            await pipe.execute()
        return len(families)


# ---------------------------------------------------------------------------------------------
# login failures and lockout


class LoginThrottle:
    """Failed logins per e-mail address and the lock they lead to (Redis)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def locked_for(self, email: str) -> int:
        """Seconds the address stays locked (0: not locked)."""
        ttl = await self._redis.ttl(f"{PREFIX}lock:{email}")
        return max(0, int(ttl))

    async def record_failure(self, email: str) -> int:
        """Count one failure (the count expires an hour after the last); return the count."""
        key = f"{PREFIX}fail:{email}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 3600)
            count, _ = await pipe.execute()
        return int(count)

    async def lock(self, email: str, seconds: int) -> None:
        """Lock the address for ``seconds``."""
        await self._redis.set(f"{PREFIX}lock:{email}", "1", ex=seconds)

    async def clear(self, email: str) -> None:
        """Forget failures and any lock (after a successful login or a password reset)."""
        await self._redis.delete(f"{PREFIX}fail:{email}", f"{PREFIX}lock:{email}")


# ---------------------------------------------------------------------------------------------
# short-lived hand-offs: OAuth state, pending second factor


class HandOffs:
    """Single-use values with a lifetime, read once with GETDEL."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def put(self, kind: str, key: str, value: str, ttl: int) -> None:
        """Store ``value`` under ``kind:key`` for ``ttl`` seconds."""
        await self._redis.set(f"{PREFIX}{kind}:{key}", value, ex=ttl)

    async def take(self, kind: str, key: str) -> str | None:
        """Return and delete the value (None when absent, expired or already taken)."""
        raw = await self._redis.getdel(f"{PREFIX}{kind}:{key}")
        return None if raw is None else _text(raw)


# ---------------------------------------------------------------------------------------------
# sockets of a user


class SocketRegistry:
    """The Socket.IO sids of each user, across web processes (so they can be disconnected)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def add(self, user_id: str, sid: str) -> None:
        """Remember a connected socket (the set lives a day after the last connection)."""
        key = f"{PREFIX}sockets:{user_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(key, sid)
            pipe.expire(key, 86400)
            await pipe.execute()

    async def remove(self, user_id: str, sid: str) -> None:
        """Forget a disconnected socket."""
        await self._redis.srem(f"{PREFIX}sockets:{user_id}", sid)

    async def take_all(self, user_id: str) -> list[str]:
        """Return and forget every sid of the user."""
        key = f"{PREFIX}sockets:{user_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.smembers(key)
            pipe.delete(key)
            sids, _ = await pipe.execute()
        return sorted(_text(s) for s in sids)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
