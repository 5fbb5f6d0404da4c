"""OpenID Connect login (authorization code + PKCE S256, state and nonce) through Authlib's
OAuth 2 client; the ID token is verified with joserfc against the provider's JWKS.

Google is the configured provider; the provider is found through its discovery document
(``oauth_google_discovery_url``), so the tests drive this very code against a local provider
by configuration only. Discovery and JWKS are cached per process for an hour; an ID token
signed by an unknown key makes one JWKS refetch (the provider rotated its keys).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from app.config import Settings
from app.identity.errors import OAuthFailed, OAuthNotConfigured, ProviderUnavailable

ID_TOKEN_ALGORITHMS = ["RS256", "ES256"]  # what Google (and most providers) sign with
CACHE_SECONDS = 3600
ID_TOKEN_LEEWAY_SECONDS = 60
CALLBACK_PATH = "/api/v1/auth/oauth/google/callback"


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the browser, and what must come back (kept server-side in Redis)."""

    url: str
    state: str
    code_verifier: str
    nonce: str


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """The verified claims of an ID token that matter here."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str | None


_cache: dict[str, tuple[float, Any]] = {}


class OidcProvider:
    """One OpenID Connect provider, configured by settings (``oauth_google_*``)."""

    name = "google"

    def __init__(self, settings: Settings) -> None:
        if not settings.oauth_google_client_id:
            raise OAuthNotConfigured("login with Google is not configured here")
        self.settings = settings
        self.client_id = settings.oauth_google_client_id
        self.client_secret = settings.oauth_google_client_secret.get_secret_value()
        self.discovery_url = settings.oauth_google_discovery_url
        self.redirect_uri = settings.oauth_google_redirect_uri or (
            settings.public_url.rstrip("/") + CALLBACK_PATH
        )
        self.timeout = settings.service_timeout_seconds

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope="openid email profile",
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
            timeout=self.timeout,
        )

    async def _get_json(self, url: str) -> Any:
        try:
            async with httpx2.AsyncClient(timeout=self.timeout) as http:
                response = await http.get(url)
                response.raise_for_status()
                return response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(
                "the identity provider did not answer", details={"service": "oidc"}
            ) from exc

    async def _cached(self, url: str, refresh: bool = False) -> Any:
        hit = _cache.get(url)
        if hit is not None and not refresh and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        value = await self._get_json(url)
        _cache[url] = (time.monotonic(), value)
        return value

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (issuer and endpoints)."""
        document = await self._cached(self.discovery_url)
        needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(document, dict) or any(k not in document for k in needed):
            raise ProviderUnavailable(
                "the provider's discovery document is incomplete", details={"service": "oidc"}
            )
        return document

    async def authorization_request(self) -> AuthorizationRequest:
        """A new authorization URL with fresh ``state``, ``nonce`` and PKCE verifier."""
        metadata = await self.metadata()
        verifier = generate_token(64)
        nonce = generate_token(32)
        async with self._client() as client:
            url, state = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=generate_token(32),
                code_verifier=verifier,
                nonce=nonce,
            )
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier, nonce=nonce)

    async def exchange_code(self, code: str, code_verifier: str) -> str:
        """Trade the authorization code (with the PKCE verifier) for the ID token.

        Raises ``OAuthFailed`` when the provider refuses, ``ProviderUnavailable`` when it is down.
        """
        metadata = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
        except OAuth2Error as exc:
            raise OAuthFailed(
                "the provider refused the authorization code",
                details={"reason": "code_refused", "provider_error": exc.error},
            ) from exc
        except httpx2.HTTPError as exc:
            raise ProviderUnavailable(
                "the identity provider did not answer", details={"service": "oidc"}
            ) from exc
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not isinstance(id_token, str):
            raise OAuthFailed("the provider sent no ID token", details={"reason": "no_id_token"})
        return id_token

    async def verify_id_token(self, id_token: str, nonce: str) -> ExternalIdentity:
        """Verify signature (JWKS), algorithm, ``iss``, ``aud``, ``exp``, ``iat`` and ``nonce``.

        Raises ``OAuthFailed`` with ``details.reason`` naming what failed.
        """
        metadata = await self.metadata()
        decoded = None
        for refresh in (False, True):
            keys = KeySet.import_key_set(await self._cached(metadata["jwks_uri"], refresh))
            try:
                decoded = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
                break
            except (JoseError, ValueError) as exc:
                if refresh:
                    raise OAuthFailed(
                        "the ID token does not verify",
                        details={"reason": "id_token_signature"},
                    ) from exc
        assert decoded is not None
        registry = jwt.JWTClaimsRegistry(
            leeway=ID_TOKEN_LEEWAY_SECONDS,
            iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(decoded.claims)
        except ExpiredTokenError as exc:
            raise OAuthFailed(
                "the ID token expired", details={"reason": "id_token_expired"}
            ) from exc
        except (InvalidClaimError, MissingClaimError) as exc:
            claim = getattr(exc, "claim", "claims")
            raise OAuthFailed(
                f"the ID token's {claim} is not acceptable",
                details={"reason": f"id_token_{claim}"},
            ) from exc
        claims = decoded.claims
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise OAuthFailed("the ID token carries no e-mail", details={"reason": "no_email"})
        verified = claims.get("email_verified")
        return ExternalIdentity(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=email.strip().lower(),
            email_verified=verified is True or verified == "true",
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        )


def encode_state(request: AuthorizationRequest) -> str:
    """What Redis keeps for one authorization request."""
    return json.dumps({"verifier": request.code_verifier, "nonce": request.nonce})


def decode_state(raw: str) -> tuple[str, str]:
    """(code verifier, nonce) from ``encode_state``'s output."""
    data = json.loads(raw)
    return str(data["verifier"]), str(data["nonce"])
