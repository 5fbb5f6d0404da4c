"""Liveness and readiness of the web process."""
