"""Mail: sending over SMTP (aiosmtplib) to whatever relay the settings name, the local mail
server the project runs in dev and test (aiosmtpd), and the dev-only outbox that shows what that
server received."""
