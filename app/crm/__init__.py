"""The operator's CRM: leads, clients, follow-ups, KYC compliance, reports (issue #18)."""
