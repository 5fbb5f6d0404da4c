"""Platform broadcasts: a platform admin's message to everyone or to one club's members,
persisted, delivered live and listed."""
