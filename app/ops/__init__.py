"""Operating the platform: backups that restore, and the checks run on a restored copy."""
