"""The audit log: append-only, hash-chained records of who did what (ARCHITECTURE.md rule 4).

Use ``audit_service.do_append(...)`` from any domain, inside the domain's transaction when there
is one, so the record exists exactly when the change does.
"""
