"""The texts of the mails identity sends: (subject, body) pairs, plain text."""

from __future__ import annotations

from app.identity.documents import CodePurpose

ACCOUNT_EXISTS = (
    "You already have a Samooh account",
    "Someone (maybe you) tried to sign up with this address, which already "
    "has a Samooh account. Log in, or reset your password if you forgot it. "
    "If it was not you, nothing has changed.\n",
)

PASSWORD_CHANGED = (
    "Your Samooh password was changed",
    "Your password was just reset and every session was logged out. If this was "
    "not you, reset it again at once and contact support.\n",
)


def code_mail(purpose: CodePurpose, full_name: str, code: str, minutes: int) -> tuple[str, str]:
    """(subject, body) of the mail carrying a 6-digit ``code`` for ``purpose`` (e-mail
    verification or password reset), valid ``minutes``."""
    if purpose is CodePurpose.VERIFY_EMAIL:
        return (
            "Your Samooh verification code",
            f"Hello {full_name},\n\nyour Samooh verification code is {code}\n\n"
            f"It expires in {minutes} minutes. If you did not sign up, ignore this mail.\n",
        )
    return (
        "Your Samooh password reset code",
        f"Hello {full_name},\n\nyour Samooh password reset code is {code}\n\n"
        f"It expires in {minutes} minutes. If you did not ask for it, ignore this mail: "
        "your password stays as it is.\n",
    )
