"""Production refuses the development keys and hides the dev outbox; the OpenAPI document shows
every identity endpoint with its schemas, errors and the bearer scheme."""

from __future__ import annotations

import pytest
from joserfc.jwk import OKPKey
from pydantic import ValidationError

from app.config import Settings
from app.web import create_app

PRODUCTION = {
    "environment": "production",
    "payment_provider": "stripe",
    "stripe_secret_key": "sk_live_x",
    "stripe_webhook_secret": "whsec_x",
}


def test_production_refuses_the_published_development_keys() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**PRODUCTION)
    assert "secret_key, jwt_private_key must not be the published development key" in str(
        refused.value
    )
    with pytest.raises(ValidationError, match="Ed25519 private key"):
        Settings(**PRODUCTION, jwt_private_key="not a key", secret_key="s" * 40)


def _production() -> Settings:
    key = OKPKey.generate_key("Ed25519").as_pem(private=True).decode()
    return Settings(**PRODUCTION, jwt_private_key=key, secret_key="p" * 48)


async def test_production_has_no_dev_outbox() -> None:
    client = create_app(_production()).test_client()
    for path in ("/api/v1/dev/outbox?to=a@example.com", "/dev/mail"):
        reply = await client.get(path)
        assert reply.status_code == 404, path
        assert (await reply.get_json())["error"]["code"] == "not_found"


async def test_openapi_documents_every_identity_endpoint(settings: Settings) -> None:
    spec = await (await create_app(settings).test_client().get("/openapi.json")).get_json()
    paths = spec["paths"]
    expected = {
        ("post", "/api/v1/auth/signup"), ("post", "/api/v1/auth/verify-email"),
        ("post", "/api/v1/auth/verify-email/resend"), ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/mfa"), ("post", "/api/v1/auth/refresh"),
        ("post", "/api/v1/auth/logout"), ("post", "/api/v1/auth/password/forgot"),
        ("post", "/api/v1/auth/password/reset"), ("post", "/api/v1/auth/guest"),
        ("get", "/api/v1/auth/oauth/google/start"), ("get", "/api/v1/auth/oauth/google/callback"),
        ("get", "/api/v1/me"), ("patch", "/api/v1/me"), ("post", "/api/v1/me/mfa/totp/enrol"),
        ("get", "/api/v1/me/mfa/totp/qr.png"), ("post", "/api/v1/me/mfa/totp/confirm"),
        ("post", "/api/v1/me/mfa/totp/disable"), ("post", "/api/v1/me/mfa/recovery-codes"),
        ("get", "/api/v1/admin/users"), ("post", "/api/v1/admin/users/{user_id}/suspend"),
        ("post", "/api/v1/admin/users/{user_id}/reactivate"),
        ("put", "/api/v1/admin/users/{user_id}/roles"), ("get", "/api/v1/admin/security-events"),
        ("get", "/api/v1/admin/audit"), ("get", "/api/v1/dev/outbox"),
    }  # fmt: skip
    missing = {(m, p) for m, p in expected if m not in paths.get(p, {})}
    assert not missing
    login = paths["/api/v1/auth/login"]["post"]
    assert "requestBody" in login and "200" in login["responses"]
    assert {"401", "403", "429"} <= set(login["responses"])
    assert "account_locked" in login["description"]
    roles = paths["/api/v1/admin/users/{user_id}/roles"]["put"]
    assert roles["security"] == [{"bearer": []}]
    assert {"401", "403", "404", "409", "429"} <= set(roles["responses"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    error = login["responses"]["401"]["content"]["application/json"]["schema"]
    assert error["title"] == "ErrorResponse" and "ErrorDetail" in spec["components"]["schemas"]
