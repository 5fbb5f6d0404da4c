"""The audit log: append-only, hash-chained records of who did what (docs/architecture.md, money).

Use ``audit_service.do_append(...)`` from any domain, inside the domain's transaction when there
is one, so the record exists exactly when the change does.
"""
