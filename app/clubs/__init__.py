"""Investment clubs: membership, roles, invites, and unit-value accounting (docs/domain.md,
"Investment clubs")."""
