"""Who may see a file: the rules of the object that owns it.

* the uploader (``owner_id``) always — for a report, the person who asked for it;
* a KYC document: platform admins (the review queue); CRM staff whose book holds the client
  read it through the CRM (``/api/v1/crm/kyc/{document_id}/file``), whose scope decides;
* an agreement: active members of its club;
* a campaign's picture, document or profit statement: through this API only its uploader;
  everyone else reads it through the campaign (``/api/v1/campaigns/{id}/files/{file}/link``),
  whose rules (published or not, investor or not) decide;
* a receipt: the owner/admin/treasurers of a club where the uploader's own contribution names
  it (someone else's receipt id on your contribution gives you nothing).
"""

from __future__ import annotations

from app.clubs.documents import MembershipStatus
from app.clubs.service import TREASURY, club_service
from app.files.documents import FilePurpose, StoredFile
from app.identity.documents import PlatformRole, User


async def may_view(file: StoredFile, viewer: User) -> bool:
    """Whether ``viewer`` may get a link to ``file``."""
    viewer_id = str(viewer.id)
    if file.owner_id == viewer_id:
        return True
    if file.purpose == FilePurpose.KYC_DOCUMENT:
        return PlatformRole.ADMIN in viewer.roles
    if file.purpose == FilePurpose.CAMPAIGN:  # the campaign's own link route decides
        return False
    if file.club_id is None or file.purpose not in (FilePurpose.AGREEMENT, FilePurpose.RECEIPT):
        return False
    membership = await club_service.membership(file.club_id, viewer_id)
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        return False
    # an agreement: every member; a receipt (its uploader's own contribution): the treasury
    return file.purpose == FilePurpose.AGREEMENT or membership.role in TREASURY
