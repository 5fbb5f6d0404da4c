"""Who may see a file: the rules of the object that owns it.

* the uploader (``owner_id``) always — for a report, the person who asked for it;
* a KYC document: platform admins (the review queue);
* an agreement: active members of its club;
* a receipt: the owner/admin/treasurers of a club where the uploader's own contribution names
  it (someone else's receipt id on your contribution gives you nothing).
"""

from __future__ import annotations

from app.clubs.documents import Contribution, MembershipStatus
from app.clubs.service import TREASURY
from app.files.documents import FilePurpose, StoredFile
from app.identity.documents import PlatformRole, User


async def may_view(file: StoredFile, viewer: User) -> bool:
    """Whether ``viewer`` may get a link to ``file``."""
    from app.clubs import repository as clubs

    viewer_id = str(viewer.id)
    if file.owner_id == viewer_id:
        return True
    if file.purpose == FilePurpose.KYC_DOCUMENT:
        return PlatformRole.ADMIN in viewer.roles
    if file.purpose == FilePurpose.AGREEMENT and file.club_id:
        membership = await clubs.get_membership(file.club_id, viewer_id)
        return membership is not None and membership.status == MembershipStatus.ACTIVE
    if file.purpose == FilePurpose.RECEIPT:
        uses = Contribution.find({"receipt_file_id": str(file.id), "user_id": file.owner_id})
        async for contribution in uses:
            membership = await clubs.get_membership(contribution.club_id, viewer_id)
            if (
                membership is not None
                and membership.status == MembershipStatus.ACTIVE
                and membership.role in TREASURY
            ):
                return True
    return False
