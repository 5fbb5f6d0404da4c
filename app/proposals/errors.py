"""Failures of the proposals domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError, NotFound


class ProposalNotFound(NotFound):
    """No such proposal — also what a non-member of its club sees."""

    code = "proposal_not_found"


class VotingClosed(AppError):
    """The proposal is closed, cancelled or past its deadline: no more votes (409)."""

    status = 409
    code = "voting_closed"


class NotEligible(AppError):
    """The member was not in the club when the proposal was made (not in its weight snapshot),
    so has no vote on it (403)."""

    status = 403
    code = "not_eligible"


class ProposalNotOpen(AppError):
    """Only an open proposal can be closed early or cancelled (409, ``details.status``)."""

    status = 409
    code = "proposal_not_open"


class InvalidProposal(AppError):
    """The proposal's fields do not fit together (422), e.g. a deadline too soon."""

    status = 422
    code = "invalid_proposal"


class NoVotingWeight(AppError):
    """Weighted voting, but no member holds units yet: nobody could carry the vote (409)."""

    status = 409
    code = "no_voting_weight"


class NotAllowed(AppError):
    """Closing early needs a club owner/admin; cancelling needs one or the proposer (403)."""

    status = 403
    code = "role_required"


class DiscussionFull(AppError):
    """A proposal's thread holds at most ``proposal_max_comments`` comments (409)."""

    status = 409
    code = "discussion_full"
