"""Investment clubs: membership, roles, invites, and unit-value accounting (DOMAIN.md,
"Investment clubs")."""
