"""ASGI entry point for Hypercorn: ``hypercorn --worker-class uvloop app.asgi:application``."""

from app.web import create_asgi_app

application = create_asgi_app()
