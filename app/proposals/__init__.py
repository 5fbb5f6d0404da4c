"""Proposals and live voting in a club (DOMAIN.md, "Proposals and voting")."""
