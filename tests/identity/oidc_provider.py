"""A small OpenID Connect provider for the tests, standing in for Google (unreachable here).

Discovery, authorize, token and JWKS endpoints; RS256-signed ID tokens (joserfc). It checks what
Google checks of a client: client id and secret (HTTP Basic), the registered redirect URI, the
PKCE S256 challenge against the verifier, single-use codes. The test decides who "logs in"
(``next_identity``) and can make it misbehave (``id_token_overrides``, ``sign_with_stranger``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey


@dataclass
class Grant:
    """One issued authorization code."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    identity: dict[str, Any]


@dataclass
class OidcProvider:
    """Configure ``client_id``/``client_secret``/``redirect_uris`` like a Google console entry."""

    url: str
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)
    next_identity: dict[str, Any] = field(default_factory=dict)
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    sign_with_stranger: bool = False
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.stranger = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.runner: web.AppRunner | None = None

    # -- endpoints ---------------------------------------------------------------------------

    async def discovery(self, _: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "scopes_supported": ["openid", "email", "profile"],
            }
        )

    async def jwks(self, _: web.Request) -> web.Response:
        return web.json_response(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        problems = []
        if q.get("response_type") != "code":
            problems.append("response_type")
        if q.get("client_id") != self.client_id:
            problems.append("client_id")
        if q.get("redirect_uri") not in self.redirect_uris:
            problems.append("redirect_uri")
        if "openid" not in q.get("scope", "").split():
            problems.append("scope")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            problems.append("pkce")
        if not q.get("state"):
            problems.append("state")
        if problems:
            return web.json_response({"error": "invalid_request", "bad": problems}, status=400)
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            client_id=q["client_id"],
            redirect_uri=q["redirect_uri"],
            challenge=q["code_challenge"],
            nonce=q.get("nonce"),
            identity=dict(self.next_identity),
        )
        query = urlencode({"code": code, "state": q["state"]})
        raise web.HTTPFound(f"{q['redirect_uri']}?{query}")

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items()})
        auth = request.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != f"Basic {expected}":
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self.grants.pop(str(form.get("code", "")), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return web.json_response({"error": "invalid_grant"}, status=400)
        if form.get("redirect_uri") != grant.redirect_uri:
            return web.json_response({"error": "invalid_grant", "bad": "redirect_uri"}, 400)
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if challenge != grant.challenge:
            return web.json_response({"error": "invalid_grant", "bad": "code_verifier"}, 400)
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": self.client_id,
            "azp": self.client_id,
            "iat": now,
            "exp": now + 3600,
            "nonce": grant.nonce,
            **grant.identity,
            **self.id_token_overrides,
        }
        key = self.stranger if self.sign_with_stranger else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        return web.json_response(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "openid email profile",
                "id_token": id_token,
            }
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/jwks", self.jwks)
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        parts = urlsplit(self.url)
        await web.TCPSite(self.runner, parts.hostname, parts.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def reset(self) -> None:
        """Back to a well-behaved provider."""
        self.id_token_overrides = {}
        self.sign_with_stranger = False
