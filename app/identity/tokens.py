"""Access tokens: JWTs signed and verified with joserfc.

Algorithm: Ed25519 (EdDSA, RFC 8037, named as RFC 9864 now prefers), and only that — the
allow-list is enforced before any key is used, so ``alg: none``, HS256 signed with the public
key, or anything else is refused. Why Ed25519: asymmetric (a verifier never holds the signing
key, so later services and workers can verify with the public key alone), deterministic
signatures (no per-signature nonce to get wrong, unlike ECDSA), small and fast.

Claims: ``iss``, ``aud``, ``sub`` (user id, or ``guest:<random>``), ``iat``, ``nbf``, ``exp``,
``jti``, ``typ`` (``access`` | ``guest``), ``roles``, ``fam`` (the refresh-token family = the
session; checked against Redis on every request so logout, reset, reuse detection and
suspension cut access at once) and ``amr`` (how the session authenticated: ``pwd``, ``otp``,
``oauth``).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    DecodeError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingAlgorithmError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)

from app.config import Settings
from app.identity import errors
from app.identity.keys import signing_key

ALGORITHMS = ["Ed25519"]
# Clock skew tolerated between the processes that sign and verify (seconds).
LEEWAY_SECONDS = 5

TokenType = Literal["access", "guest"]


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """The verified claims of an access or guest token."""

    subject: str
    token_type: TokenType
    roles: list[str]
    family: str | None
    amr: list[str]
    jti: str
    expires_at: int

    @property
    def is_guest(self) -> bool:
        """True for the anonymous market-data tokens of ``POST /api/v1/auth/guest``."""
        return self.token_type == "guest"


def issue_token(
    settings: Settings,
    *,
    subject: str,
    token_type: TokenType,
    roles: list[str],
    family: str | None = None,
    amr: list[str] | None = None,
    now: int | None = None,
    ttl_seconds: int | None = None,
) -> str:
    """Sign an access (or guest) token; ``ttl_seconds`` defaults to the setting of its type."""
    issued = int(time.time()) if now is None else now
    ttl = ttl_seconds
    if ttl is None:
        ttl = (
            settings.access_token_ttl_seconds
            if token_type == "access"
            else settings.guest_token_ttl_seconds
        )
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": secrets.token_urlsafe(16),
        "typ": token_type,
        "roles": roles,
        "amr": amr or [],
    }
    if family is not None:
        claims["fam"] = family
    key = signing_key(settings)
    header = {"alg": ALGORITHMS[0], "typ": "JWT", "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=ALGORITHMS)


def verify_token(settings: Settings, token: str) -> AccessClaims:
    """Verify signature, algorithm, issuer, audience and times; return the claims.

    Raises (all 401): ``TokenMalformed``, ``TokenAlgorithmNotAllowed``,
    ``TokenSignatureInvalid``, ``TokenExpired``, ``TokenNotYetValid``, ``TokenAudienceInvalid``,
    ``TokenIssuerInvalid``, ``TokenClaimsInvalid``.
    """
    try:
        decoded = jwt.decode(token, signing_key(settings), algorithms=ALGORITHMS)
    except (UnsupportedAlgorithmError, MissingAlgorithmError) as exc:
        raise errors.TokenAlgorithmNotAllowed(
            "the token's algorithm is not allowed", details={"allowed": ALGORITHMS}
        ) from exc
    except BadSignatureError as exc:
        raise errors.TokenSignatureInvalid("the token's signature does not verify") from exc
    except (DecodeError, JoseError, ValueError, TypeError) as exc:
        raise errors.TokenMalformed("the token is not a well-formed JWT") from exc
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": settings.jwt_issuer},
        aud={"essential": True, "value": settings.jwt_audience},
        sub={"essential": True},
        jti={"essential": True},
        exp={"essential": True},
        nbf={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise errors.TokenExpired("the token has expired") from exc
    except InvalidClaimError as exc:
        claim = getattr(exc, "claim", None)
        if claim in ("nbf", "iat"):
            raise errors.TokenNotYetValid("the token is not valid yet") from exc
        if claim == "aud":
            raise errors.TokenAudienceInvalid("the token is for another audience") from exc
        if claim == "iss":
            raise errors.TokenIssuerInvalid("the token comes from another issuer") from exc
        raise errors.TokenClaimsInvalid(f"invalid claim {claim!r}") from exc
    except (MissingClaimError, JoseError) as exc:
        raise errors.TokenClaimsInvalid(str(exc)) from exc
    token_type = claims.get("typ")
    roles = claims.get("roles")
    amr = claims.get("amr", [])
    family = claims.get("fam")
    if (
        token_type not in ("access", "guest")
        or not isinstance(claims["sub"], str)
        or not isinstance(roles, list)
        or not all(isinstance(r, str) for r in roles)
        or not isinstance(amr, list)
        or (token_type == "access" and not isinstance(family, str))
    ):
        raise errors.TokenClaimsInvalid("the token's claims are not an access token's")
    return AccessClaims(
        subject=claims["sub"],
        token_type=token_type,
        roles=roles,
        family=family if isinstance(family, str) else None,
        amr=[str(a) for a in amr],
        jti=str(claims["jti"]),
        expires_at=int(claims["exp"]),
    )
