"""Identity and access: accounts, e-mailed codes, JWT sessions with rotating refresh tokens, TOTP
MFA and step-up, OpenID Connect login, platform roles and the admin's user management."""
