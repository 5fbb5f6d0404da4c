"""Proposals over HTTP: ``/api/v1/clubs/{id}/proposals`` (create, list) and
``/api/v1/proposals/{id}`` (view, votes, close, cancel, vote history, discussion)."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors
from app.proposals.documents import CloseReason
from app.proposals.schemas import (
    CancelRequest,
    CommentCreate,
    CommentList,
    CommentOut,
    CommentQuery,
    ProposalCreate,
    ProposalList,
    ProposalOut,
    ProposalQuery,
    ProposalView,
    VoteCast,
    VoteOut,
)
from app.proposals.service import proposal_service

blueprint = Blueprint("proposals", __name__, url_prefix="/api/v1")


def _me() -> str:
    return current_principal().user_id


@blueprint.post("/clubs/<club_id>/proposals")
@tag(["proposals"])
@require_auth
@validate_request(ProposalCreate)
@validate_response(ProposalOut, 201)
@document_errors(404, 409, 422)
async def create(club_id: str, data: ProposalCreate) -> tuple[ProposalOut, int]:
    """Open a proposal (any member); the club's rules and everyone's weight are copied onto
    it. A ``rules`` proposal, once approved, changes the club's rules. Errors: 404
    ``club_not_found``, ``unknown_symbol``; 409 ``no_voting_weight``, ``rules_by_owners``; 422
    ``invalid_proposal``, ``no_rules_change``, ``validation_error``."""
    proposal = await proposal_service.do_create(club_id, _me(), data)
    return ProposalOut.of(proposal), 201


@blueprint.get("/clubs/<club_id>/proposals")
@tag(["proposals"])
@require_auth
@validate_querystring(ProposalQuery)
@validate_response(ProposalList)
@document_errors(404, 422)
async def list_proposals(club_id: str, query_args: ProposalQuery) -> ProposalList:
    """The club's proposals, newest first (``status=open|closed``). Errors: 404
    ``club_not_found``."""
    items = await proposal_service.list_of_club(club_id, _me(), query_args.status, query_args.limit)
    return ProposalList(proposals=[ProposalOut.of(p) for p in items])


@blueprint.get("/proposals/<proposal_id>")
@tag(["proposals"])
@require_auth
@validate_response(ProposalView)
@document_errors(404)
async def view(proposal_id: str) -> ProposalView:
    """The proposal with your vote and weight. Errors: 404 ``proposal_not_found``."""
    me = _me()
    proposal, vote = await proposal_service.view(proposal_id, me)
    return ProposalView(
        **ProposalOut.of(proposal).model_dump(),
        my_vote=vote.choice if vote else None, my_weight=proposal.weights.get(me),
    )  # fmt: skip


@blueprint.post("/proposals/<proposal_id>/votes")
@tag(["proposals"])
@require_auth
@validate_request(VoteCast)
@validate_response(VoteOut)
@document_errors(403, 404, 409, 422)
async def vote(proposal_id: str, data: VoteCast) -> VoteOut:
    """Vote yes, no or abstain, or change your vote until the close (the same vote again
    changes nothing: ``changed: false``). Errors: 403 ``not_eligible``; 404
    ``proposal_not_found``; 409 ``voting_closed``."""
    result = await proposal_service.do_cast_vote(proposal_id, _me(), data.choice)
    return VoteOut.of(result.vote, result.changed)


@blueprint.post("/proposals/<proposal_id>/close")
@tag(["proposals"])
@require_auth
@validate_response(ProposalOut)
@document_errors(403, 404, 409)
async def close_early(proposal_id: str) -> ProposalOut:
    """Close now and record the outcome (club owner/admin). Errors: 403 ``role_required``;
    404 ``proposal_not_found``; 409 ``proposal_not_open``."""
    proposal = await proposal_service.do_close(proposal_id, _me(), CloseReason.EARLY)
    return ProposalOut.of(proposal)


@blueprint.post("/proposals/<proposal_id>/cancel")
@tag(["proposals"])
@require_auth
@validate_request(CancelRequest)
@validate_response(ProposalOut)
@document_errors(403, 404, 409, 422)
async def cancel(proposal_id: str, data: CancelRequest) -> ProposalOut:
    """Withdraw an open proposal without an outcome (club owner/admin or the proposer).
    Errors: 403 ``role_required``; 404 ``proposal_not_found``; 409 ``proposal_not_open``."""
    proposal = await proposal_service.do_close(
        proposal_id, _me(), CloseReason.CANCELLED, data.reason
    )
    return ProposalOut.of(proposal)


@blueprint.post("/proposals/<proposal_id>/comments")
@tag(["proposals"])
@require_auth
@validate_request(CommentCreate)
@validate_response(CommentOut, 201)
@document_errors(404, 409, 422, 429)
async def comment(proposal_id: str, data: CommentCreate) -> tuple[CommentOut, int]:
    """Add to the proposal's discussion (any member; up to 2,000 characters); every open screen
    hears ``proposal:comment``. Errors: 404 ``proposal_not_found``; 409 ``proposal_not_open``
    (withdrawn), ``discussion_full``; 422 ``validation_error``; 429 ``rate_limited``."""
    made = await proposal_service.do_comment(proposal_id, _me(), data.body)
    return CommentOut.of(made), 201


@blueprint.get("/proposals/<proposal_id>/comments")
@tag(["proposals"])
@require_auth
@validate_querystring(CommentQuery)
@validate_response(CommentList)
@document_errors(404, 422)
async def comments(proposal_id: str, query_args: CommentQuery) -> CommentList:
    """The proposal's discussion, oldest first, after room seq ``after``. Errors: 404
    ``proposal_not_found``."""
    items = await proposal_service.comments(proposal_id, _me(), query_args.after, query_args.limit)
    more = len(items) == query_args.limit
    return CommentList(
        comments=[CommentOut.of(c) for c in items], next_after=items[-1].seq if more else None
    )
