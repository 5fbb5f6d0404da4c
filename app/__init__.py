"""Samooh: the domains (one package each), the infrastructure they share, and the entry points
(app/web.py builds the web application; app/asgi.py serves it). Importing a module of this
package loads neither Quart nor Socket.IO unless that module needs them."""
