"""``GET /api/v1/admin/audit/verify``: verify every audit chain (platform admins)."""

from __future__ import annotations

from pydantic import BaseModel
from quart import Blueprint
from quart_schema import tag, validate_response

from app.audit.service import audit_service
from app.identity.documents import PlatformRole
from app.identity.guards import require_role

blueprint = Blueprint("audit", __name__, url_prefix="/api/v1/admin/audit")


class ChainOut(BaseModel):
    """One chain: records checked, and the first broken link if any."""

    chain: str
    ok: bool
    checked: int
    broken_seq: int | None
    reason: str | None


class AuditVerification(BaseModel):
    """``ok`` only when every chain verifies."""

    ok: bool
    chains: list[ChainOut]
    first_broken: ChainOut | None


@blueprint.get("/verify")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_response(AuditVerification)
async def verify() -> AuditVerification:
    """Walk every hash chain; name the first broken link (chain and sequence number)."""
    reports = [
        ChainOut(chain=r.chain, ok=r.ok, checked=r.checked, broken_seq=r.broken_seq,
                 reason=r.reason)
        for r in await audit_service.verify_all()
    ]  # fmt: skip
    broken = next((r for r in reports if not r.ok), None)
    return AuditVerification(ok=broken is None, chains=reports, first_broken=broken)
