"""Proposals and live voting in a club (docs/domain.md, proposals and voting)."""
