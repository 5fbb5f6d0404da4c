"""KYC: identity and address documents, an admin's verification, the user's derived KYC
status, the contribution limit for people not yet verified, and expiry alerts."""
