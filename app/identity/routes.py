"""Identity HTTP endpoints: ``/api/v1/auth/…`` (public), ``/api/v1/me…`` (the account holder),
``/api/v1/admin/…`` (platform admins). Thin: parse → one identity function → schema."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, redirect, request
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.identity.account import do_update_profile
from app.identity.admin import (
    do_reactivate,
    do_set_roles,
    do_suspend,
    platform_audit,
    search_users,
    security_events,
)
from app.identity.documents import PlatformRole
from app.identity.guards import (
    client_ip,
    current_principal,
    require_auth,
    require_role,
    require_step_up,
)
from app.identity.login import do_complete_mfa, do_login
from app.identity.mfa import (
    do_confirm_totp,
    do_disable_totp,
    do_enrol_totp,
    do_regenerate_recovery_codes,
    totp_qr_png,
)
from app.identity.oidc import do_finish_oauth, do_start_oauth
from app.identity.reset import do_forgot_password, do_reset_password
from app.identity.schemas import (
    AdminUserOut,
    AuditList,
    AuditQuery,
    AuditRecordOut,
    CodeRequest,
    CodeSent,
    EmailRequest,
    GuestToken,
    LoginRequest,
    LogoutRequest,
    LogoutResult,
    MeOut,
    MePatch,
    MfaLoginRequest,
    RecoveryCodes,
    RefreshRequest,
    ResetPasswordRequest,
    RolesRequest,
    SecurityEventList,
    SecurityEventOut,
    SecurityEventQuery,
    SignupRequest,
    StatusOut,
    SuspendRequest,
    TabRefreshRequest,
    TabSession,
    TokenPair,
    TotpEnrolment,
    UserList,
    UserQuery,
    VerificationSent,
    VerifyEmailRequest,
)
from app.identity.sessions import do_logout, do_open_tab, do_refresh, issue_guest_token
from app.identity.signup import do_resend_verification, do_signup, do_verify_email
from app.openapi import document_errors, document_raw_response

auth = Blueprint("auth", __name__, url_prefix="/api/v1/auth")
me = Blueprint("me", __name__, url_prefix="/api/v1/me")
admin = Blueprint("admin", __name__, url_prefix="/api/v1/admin")

NO_STORE = {"Cache-Control": "no-store"}


# ---------------------------------------------------------------------------------------------
# /api/v1/auth


@auth.post("/signup")
@tag(["auth"])
@validate_request(SignupRequest)
@validate_response(VerificationSent, 202)
@document_errors(422, 429)
async def signup(data: SignupRequest) -> tuple[VerificationSent, int]:
    """Create a PENDING account and e-mail a 6-digit code (valid 10 minutes, 5 attempts).

    The answer is the same whether or not the address already has an account (that address is
    mailed a notice instead). Errors: 422 ``weak_password`` (``details.reasons``),
    ``validation_error``; 429 ``rate_limited`` (per client IP).
    """
    return await do_signup(data, client_ip()), 202


@auth.post("/verify-email")
@tag(["auth"])
@validate_request(VerifyEmailRequest)
@validate_response(MeOut)
@document_errors(400, 422, 429)
async def verify_email(data: VerifyEmailRequest) -> MeOut:
    """Activate the account with the mailed code; assigns the member id
    ``UCFSIN-<year>-<6-digit sequence>``.

    Errors: 400 ``invalid_code`` (``details.attempts_left``), ``code_expired``,
    ``too_many_attempts``; 429 ``rate_limited``.
    """
    user = await do_verify_email(data.email, data.code, client_ip())
    return MeOut.of(user)


@auth.post("/verify-email/resend")
@tag(["auth"])
@validate_request(EmailRequest)
@validate_response(CodeSent, 202)
@document_errors(422, 429)
async def resend_verification(data: EmailRequest) -> tuple[CodeSent, int]:
    """Mail a new verification code (replacing the previous one) to a PENDING account.

    Throttled per address (default once a minute, 5 an hour) whether or not it has an account.
    Errors: 429 ``rate_limited`` with ``Retry-After``.
    """
    return await do_resend_verification(data.email, client_ip()), 202


@auth.post("/login")
@tag(["auth"])
@validate_request(LoginRequest)
@validate_response(TokenPair)
@document_errors(401, 403, 429)
async def login(data: LoginRequest) -> tuple[TokenPair, int, dict[str, str]]:
    """Password login → ``{access_token, refresh_token, token_type: "Bearer", expires_in}``.

    With MFA enrolled, send ``otp`` (TOTP or recovery code) too — or use the ``mfa_token`` of
    the 401 ``mfa_required`` answer with ``POST /api/v1/auth/mfa``. Errors: 401
    ``invalid_credentials``, ``mfa_required``, ``invalid_mfa_code``; 403 ``email_not_verified``,
    ``account_suspended``; 429 ``account_locked`` (after 5 failures, for 60 s doubling up to
    15 min) or ``rate_limited``, both with ``Retry-After``.
    """
    pair = await do_login(data.email, data.password, data.otp, client_ip())
    return pair, 200, NO_STORE


@auth.post("/mfa")
@tag(["auth"])
@validate_request(MfaLoginRequest)
@validate_response(TokenPair)
@document_errors(401, 403, 429)
async def login_mfa(data: MfaLoginRequest) -> tuple[TokenPair, int, dict[str, str]]:
    """Finish a login (password or Google) that answered ``mfa_required``.

    Errors: 401 ``invalid_mfa_code``; 403 ``account_suspended``; 429 ``rate_limited``.
    """
    pair = await do_complete_mfa(data.mfa_token, data.otp, client_ip())
    return pair, 200, NO_STORE


@auth.post("/refresh")
@tag(["auth"])
@validate_request(RefreshRequest)
@validate_response(TokenPair)
@document_errors(401, 403, 429)
async def refresh(data: RefreshRequest) -> tuple[TokenPair, int, dict[str, str]]:
    """Rotate: spend the refresh token, get a new pair of the same session.

    Each refresh token works once; presenting a spent one revokes the whole session (theft
    detection, recorded as a security event) — except the same token with the same
    ``client_nonce`` again within 30 s while the new token is unused: the answer was lost, and
    the same new token is answered. Errors: 401 ``refresh_token_invalid``,
    ``refresh_token_reused``, ``session_revoked``; 403 ``account_suspended``; 429.
    """
    pair = await do_refresh(data.refresh_token, client_ip(), data.client_nonce)
    return pair, 200, NO_STORE


@auth.post("/refresh/tab")
@tag(["auth"])
@validate_request(TabRefreshRequest)
@validate_response(TabSession)
@document_errors(401, 403, 429)
async def refresh_for_tab(data: TabRefreshRequest) -> tuple[TabSession, int, dict[str, str]]:
    """A signed-in tab asks for a session for another tab of the same browser (a link opened
    in a new tab stays signed in): the caller's refresh token is rotated as by ``/refresh``
    (``session``) and a separate session is opened for the new tab (``tab``), so the two never
    spend one single-use token. Errors: those of ``/refresh``."""
    mine, tab = await do_open_tab(data.refresh_token, client_ip())
    return TabSession(session=mine, tab=tab), 200, NO_STORE


@auth.post("/logout")
@tag(["auth"])
@require_auth
@validate_request(LogoutRequest)
@validate_response(LogoutResult)
async def logout(data: LogoutRequest) -> LogoutResult:
    """End this session (its access and refresh tokens stop at once), or every session of the
    account with ``all_sessions``. Errors: 401 (token errors)."""
    count = await do_logout(current_principal(), data.all_sessions)
    return LogoutResult(revoked_sessions=count)


@auth.post("/password/forgot")
@tag(["auth"])
@validate_request(EmailRequest)
@validate_response(CodeSent, 202)
@document_errors(422, 429)
async def forgot_password(data: EmailRequest) -> tuple[CodeSent, int]:
    """Mail a 6-digit reset code if the address has an active account (the answer never says).

    Errors: 429 ``rate_limited`` (per client IP).
    """
    return await do_forgot_password(data.email, client_ip()), 202


@auth.post("/password/reset")
@tag(["auth"])
@validate_request(ResetPasswordRequest)
@validate_response(StatusOut)
@document_errors(400, 422, 429)
async def reset_password(data: ResetPasswordRequest) -> StatusOut:
    """Set a new password with the mailed code; every session of the account is revoked.

    Errors: 422 ``weak_password``; 400 ``invalid_code``, ``code_expired``,
    ``too_many_attempts``; 429 ``rate_limited``.
    """
    await do_reset_password(data.email, data.code, data.new_password, client_ip())
    return StatusOut(status="password_reset")


@auth.post("/guest")
@tag(["auth"])
@validate_response(GuestToken)
@document_errors(429)
async def guest_token() -> GuestToken:
    """An anonymous 15-minute token for the public market data over Socket.IO (a connection
    always needs a token). It opens no HTTP endpoint that needs an account. Errors: 429."""
    return await issue_guest_token(client_ip())


@auth.get("/oauth/google/start")
@tag(["auth"])
@document_errors(404, 503)
@document_raw_response(302, description="to the provider's consent page", location=True)
async def oauth_start() -> Any:
    """302 to Google's consent page (authorization code + PKCE S256, state, nonce).

    Errors: 404 ``oauth_not_configured``; 503 ``service_unavailable`` (provider down).
    """
    return redirect(await do_start_oauth(), 302)


@auth.get("/oauth/google/callback")
@tag(["auth"])
@validate_response(TokenPair)
@document_errors(400, 401, 403, 404, 503)
async def oauth_callback() -> tuple[TokenPair, int, dict[str, str]]:
    """Google redirects here with ``code`` and ``state``: a session for the linked account, the
    verified account with the same e-mail (now linked), or a new one.

    Errors: 400 ``oauth_state_mismatch``; 401 ``oauth_failed`` (``details.reason``),
    ``mfa_required`` (``details.mfa_token``); 403 ``oauth_email_unverified``,
    ``account_suspended``; 404 ``oauth_not_configured``; 503.
    """
    args = request.args
    pair = await do_finish_oauth(
        code=args.get("code"), state=args.get("state"), error=args.get("error"), ip=client_ip()
    )
    return pair, 200, NO_STORE


# ---------------------------------------------------------------------------------------------
# /api/v1/me


@me.get("")
@tag(["me"])
@require_auth
@validate_response(MeOut)
async def get_me() -> MeOut:
    """The caller's profile, notification preferences, KYC status and MFA state."""
    return MeOut.of(current_principal().user)


@me.patch("")
@tag(["me"])
@require_auth
@validate_request(MePatch)
@validate_response(MeOut)
@document_errors(422)
async def patch_me(data: MePatch) -> MeOut:
    """Change name, phone (``null`` removes it) or notification preferences."""
    user = await do_update_profile(current_principal().user, data)
    return MeOut.of(user)


@me.post("/mfa/totp/enrol")
@tag(["me"])
@require_auth
@validate_response(TotpEnrolment, 201)
@document_errors(409)
async def enrol_totp() -> tuple[TotpEnrolment, int, dict[str, str]]:
    """Start TOTP enrolment: the secret, its ``otpauth://`` URI and where its QR code is.
    Errors: 409 ``mfa_already_enabled``."""
    enrolment = await do_enrol_totp(current_principal().user)
    return enrolment, 201, NO_STORE


@me.get("/mfa/totp/qr.png")
@tag(["me"])
@require_auth
@document_errors(409)
@document_raw_response(200, "image/png", description="the enrolment's QR code")
async def totp_qr() -> Response:
    """The QR code (PNG) of the enrolment in progress. Errors: 409 ``mfa_not_enrolling``."""
    png = totp_qr_png(current_principal().user)
    return Response(png, content_type="image/png", headers=NO_STORE)


@me.post("/mfa/totp/confirm")
@tag(["me"])
@require_auth
@validate_request(CodeRequest)
@validate_response(RecoveryCodes)
@document_errors(409, 429)
async def confirm_totp(data: CodeRequest) -> tuple[RecoveryCodes, int, dict[str, str]]:
    """Enable TOTP with a code from the app; returns 10 single-use recovery codes, once.

    Errors: 401 ``invalid_mfa_code``; 409 ``mfa_not_enrolling``, ``mfa_already_enabled``; 429.
    """
    codes = await do_confirm_totp(current_principal().user, data.code, client_ip())
    return RecoveryCodes(recovery_codes=codes), 200, NO_STORE


@me.post("/mfa/recovery-codes")
@tag(["me"])
@require_auth
@require_step_up
@validate_response(RecoveryCodes)
async def regenerate_recovery_codes() -> tuple[RecoveryCodes, int, dict[str, str]]:
    """Replace every recovery code (step-up: ``X-Step-Up-Code``)."""
    codes = await do_regenerate_recovery_codes(current_principal().user, client_ip())
    return RecoveryCodes(recovery_codes=codes), 200, NO_STORE


@me.post("/mfa/totp/disable")
@tag(["me"])
@require_auth
@require_step_up
@validate_response(MeOut)
async def disable_totp() -> MeOut:
    """Turn TOTP off (step-up: ``X-Step-Up-Code``)."""
    user = await do_disable_totp(current_principal().user, client_ip())
    return MeOut.of(user)


# ---------------------------------------------------------------------------------------------
# /api/v1/admin


@admin.get("/users")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_querystring(UserQuery)
@validate_response(UserList)
async def list_users(query_args: UserQuery) -> UserList:
    """Search users by e-mail, name or member id; filter by status and role; newest first."""
    page = await search_users(
        query=query_args.q,
        status=query_args.status,
        role=query_args.role,
        page=query_args.page,
        page_size=query_args.page_size,
    )
    return UserList(
        items=[AdminUserOut.of_admin(user) for user in page.items],
        total=page.total,
        page=query_args.page,
        page_size=query_args.page_size,
    )


@admin.post("/users/<user_id>/suspend")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_request(SuspendRequest)
@validate_response(AdminUserOut)
@document_errors(404, 409)
async def suspend_user(user_id: str, data: SuspendRequest) -> AdminUserOut:
    """Suspend: every token of the account stops at once and its sockets are disconnected.
    Audited. Errors: 404 ``user_not_found``; 409 ``cannot_change_own_account``."""
    user = await do_suspend(current_principal(), user_id, data.reason, client_ip())
    return AdminUserOut.of_admin(user)


@admin.post("/users/<user_id>/reactivate")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_request(SuspendRequest)
@validate_response(AdminUserOut)
@document_errors(404, 409)
async def reactivate_user(user_id: str, data: SuspendRequest) -> AdminUserOut:
    """Lift a suspension. Audited. Errors: 404 ``user_not_found``; 409."""
    user = await do_reactivate(current_principal(), user_id, data.reason, client_ip())
    return AdminUserOut.of_admin(user)


@admin.put("/users/<user_id>/roles")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_request(RolesRequest)
@require_step_up  # after validation: a malformed request must not use up a one-time code
@validate_response(AdminUserOut)
@document_errors(404, 409)
async def set_roles(user_id: str, data: RolesRequest) -> AdminUserOut:
    """Replace the user's platform roles. Needs a step-up code (``X-Step-Up-Code``). Audited
    with before/after. Errors: 403 ``step_up_required``, ``step_up_failed``,
    ``mfa_enrollment_required``; 404 ``user_not_found``; 409 ``cannot_change_own_account``."""
    user = await do_set_roles(current_principal(), user_id, data.roles, data.reason, client_ip())
    return AdminUserOut.of_admin(user)


@admin.get("/security-events")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_querystring(SecurityEventQuery)
@validate_response(SecurityEventList)
@document_errors(404)
async def list_security_events(query_args: SecurityEventQuery) -> SecurityEventList:
    """Recorded security events (failed and locked logins, MFA failures, refresh-token reuse,
    password resets…), newest first."""
    events = await security_events(
        user_id=query_args.user_id, kind=query_args.kind, limit=query_args.limit
    )
    return SecurityEventList(items=[SecurityEventOut.of(event) for event in events])


@admin.get("/audit")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_querystring(AuditQuery)
@validate_response(AuditList)
async def list_audit(query_args: AuditQuery) -> AuditList:
    """The platform audit log (admin actions), newest first, with a verification of the whole
    hash chain."""
    records, report = await platform_audit(query_args.target_id, query_args.limit)
    return AuditList(
        items=[AuditRecordOut.model_validate(r, from_attributes=True) for r in records],
        chain_ok=report.ok,
        chain_checked=report.checked,
    )
