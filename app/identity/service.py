"""Re-exports only, for importers not yet moved to the identity modules; new code imports the
module of its concern instead:

``signup`` (sign-up, verification, provisioning), ``login`` (login, MFA hand-off, lockout),
``sessions`` (refresh rotation, logout, guest tokens, HTTP and socket authentication),
``reset`` (password reset), ``mfa`` (TOTP, recovery codes, step-up), ``oidc`` (OpenID Connect
login), ``account`` (profile), ``admin`` (the admin's actions), ``codes``, ``mailtexts``,
``security`` (security events).
"""

from __future__ import annotations

from app.identity import account, admin, login, mfa, oidc, reset, sessions, signup
from app.identity.sessions import Principal, SocketIdentity

__all__ = ["IdentityService", "Principal", "SocketIdentity", "identity_service"]


class IdentityService:
    """The names of the former service object, each the function of its module."""

    do_signup = staticmethod(signup.do_signup)
    do_resend_verification = staticmethod(signup.do_resend_verification)
    do_verify_email = staticmethod(signup.do_verify_email)
    do_provision_user = staticmethod(signup.do_provision_user)
    do_login = staticmethod(login.do_login)
    do_complete_mfa = staticmethod(login.do_complete_mfa)
    do_refresh = staticmethod(sessions.do_refresh)
    do_logout = staticmethod(sessions.do_logout)
    issue_guest_token = staticmethod(sessions.issue_guest_token)
    authenticate = staticmethod(sessions.authenticate)
    authenticate_socket = staticmethod(sessions.authenticate_socket)
    do_track_socket = staticmethod(sessions.do_track_socket)
    check_step_up = staticmethod(mfa.check_step_up)
    do_forgot_password = staticmethod(reset.do_forgot_password)
    do_reset_password = staticmethod(reset.do_reset_password)
    do_update_profile = staticmethod(account.do_update_profile)
    do_enrol_totp = staticmethod(mfa.do_enrol_totp)
    totp_qr_png = staticmethod(mfa.totp_qr_png)
    do_confirm_totp = staticmethod(mfa.do_confirm_totp)
    do_regenerate_recovery_codes = staticmethod(mfa.do_regenerate_recovery_codes)
    do_disable_totp = staticmethod(mfa.do_disable_totp)
    do_start_oauth = staticmethod(oidc.do_start_oauth)
    do_finish_oauth = staticmethod(oidc.do_finish_oauth)
    list_users = staticmethod(admin.search_users)
    do_suspend = staticmethod(admin.do_suspend)
    do_reactivate = staticmethod(admin.do_reactivate)
    do_set_roles = staticmethod(admin.do_set_roles)
    security_events = staticmethod(admin.security_events)
    platform_audit = staticmethod(admin.platform_audit)


identity_service = IdentityService()
