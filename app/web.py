"""The web application, the composition root of HTTP: ``create_app()`` builds the Quart app
with every domain's blueprint, ``create_asgi_app()`` wraps it with Socket.IO (app/sockets.py)
for Hypercorn (``app.asgi:application``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import socketio
from pydantic import ValidationError
from quart import Quart, Response, jsonify, send_from_directory
from quart_schema import (
    Info,
    QuartSchema,
    RequestSchemaValidationError,
    ResponseSchemaValidationError,
)
from werkzeug.exceptions import HTTPException

from app.advisory.routes import blueprint as advisory_bp
from app.alerts.routes import blueprint as alerts_bp
from app.asyncapi import blueprint as asyncapi_bp
from app.audit.routes import blueprint as audit_bp
from app.books.routes import blueprint as books_bp
from app.broadcasts.routes import blueprint as broadcasts_bp
from app.brokers.routes import blueprint as brokers_bp
from app.campaigns.routes import blueprint as campaigns_bp
from app.chat.routes import blueprint as chat_bp
from app.chits.routes import blueprint as chits_bp
from app.clubs.routes import blueprint as clubs_bp
from app.clubs.service import club_service
from app.config import Settings, get_settings
from app.crm.routes import KYC_UPLOAD_PATH as CRM_KYC_UPLOAD_PATH
from app.crm.routes import blueprint as crm_bp
from app.documents import document_models
from app.dues.routes import blueprint as dues_bp
from app.errors import AppError, error_body, unavailable_service
from app.extensions import close_services, connect_services
from app.files.http import UploadAwareRequest
from app.files.routes import UPLOAD_PATH
from app.files.routes import blueprint as files_bp
from app.health.routes import blueprint as health_bp
from app.http_metrics import install_metrics
from app.identity.routes import admin as admin_bp
from app.identity.routes import auth as auth_bp
from app.identity.routes import me as me_bp
from app.kyc.routes import admin_blueprint as kyc_admin_bp
from app.kyc.routes import blueprint as kyc_bp
from app.logging import configure_logging, get_logger
from app.mail.routes import blueprint as dev_mail_bp
from app.market.fx_routes import blueprint as fx_bp
from app.market.routes import blueprint as market_bp
from app.notifications.routes import blueprint as notifications_bp
from app.openapi import BEARER_SCHEME, SamoohOpenAPIProvider
from app.orders.routes import blueprint as orders_bp
from app.payments.routes import blueprint as payments_bp
from app.proposals.routes import blueprint as proposals_bp
from app.push.routes import blueprint as push_bp
from app.reports.chit_routes import blueprint as chit_reports_bp
from app.reports.routes import blueprint as reports_bp
from app.request import SamoohRequest
from app.rooms.routes import blueprint as rooms_bp
from app.rooms.service import on_membership_ended
from app.sms.routes import blueprint as sms_bp
from app.sockets import create_socket_server
from app.telemetry import setup_error_reporting, setup_tracing, wrap_asgi

log = get_logger(__name__)

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None) -> Quart:
    """Build the Quart application. Connects to nothing: services open in ``before_serving``."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    setup_tracing(settings, "web")  # both off unless configured (app/telemetry.py)
    setup_error_reporting(settings, "web")
    app = Quart(__name__, static_folder=None)
    app.asgi_app = wrap_asgi(app.asgi_app)  # type: ignore[method-assign]
    app.config.update(
        QUART_SCHEMA_SWAGGER_JS_URL="/vendor/swagger/swagger-ui-bundle.js",
        QUART_SCHEMA_SWAGGER_CSS_URL="/vendor/swagger/swagger-ui.css",
        QUART_SCHEMA_BY_ALIAS=True,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.extensions["samooh_settings"] = settings
    QuartSchema(
        app,
        openapi_path="/openapi.json",
        swagger_ui_path="/api-docs",
        redoc_ui_path=None,
        scalar_ui_path=None,
        security_schemes=BEARER_SCHEME,
        openapi_provider_class=SamoohOpenAPIProvider,
        info=Info(
            title="Samooh API",
            version="1",
            description=(
                "Investment clubs, chit funds and community crowdfunding, live. Amounts are "
                "decimal strings with two places; errors are "
                '`{"error": {"code", "message", "details"}}`.'
            ),
        ),
    )
    _install_error_handlers(app)

    @app.after_request
    async def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    install_metrics(app)

    app.register_blueprint(health_bp)
    app.register_blueprint(market_bp)
    app.register_blueprint(fx_bp)

    app.register_blueprint(auth_bp)
    app.register_blueprint(me_bp)
    app.register_blueprint(admin_bp)
    if not settings.is_production:  # the dev outbox and mail page: 404 in production
        app.register_blueprint(dev_mail_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(clubs_bp)

    app.register_blueprint(books_bp)
    app.register_blueprint(dues_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(alerts_bp)

    app.register_blueprint(campaigns_bp)
    app.register_blueprint(brokers_bp)

    club_service.on_membership_ended(on_membership_ended)  # a former member leaves the room

    for live_bp in (chat_bp, rooms_bp, proposals_bp, orders_bp, notifications_bp, broadcasts_bp,
                    asyncapi_bp, chits_bp):  # fmt: skip
        app.register_blueprint(live_bp)

    # Uploads may exceed the 1 MiB JSON body limit, on their own path only (app/files/http.py);
    # JSON bodies are read strictly (UTF-8, plain JSON, bounded depth: app/request.py).
    app.request_class = SamoohRequest
    UploadAwareRequest.upload_limits[UPLOAD_PATH] = settings.file_max_bytes
    UploadAwareRequest.upload_limits[CRM_KYC_UPLOAD_PATH] = settings.file_max_bytes
    for files_kyc_reports_bp in (files_bp, kyc_bp, kyc_admin_bp, reports_bp):
        app.register_blueprint(files_kyc_reports_bp)
    app.register_blueprint(crm_bp)
    app.register_blueprint(advisory_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(chit_reports_bp)
    app.register_blueprint(push_bp)
    _install_web_client(app, ROOT / settings.web_dist)

    @app.before_serving
    async def _connect() -> None:

        await connect_services(settings, document_models())
        log.info("services connected", environment=settings.environment)

    @app.after_serving
    async def _disconnect() -> None:

        await close_services()

    return app


def create_asgi_app(settings: Settings | None = None) -> socketio.ASGIApp:
    """The ASGI application Hypercorn serves: Socket.IO at ``/socket.io``, Quart for the rest."""
    settings = settings or get_settings()

    quart_app = create_app(settings)
    sio = create_socket_server(settings)
    quart_app.extensions["socketio"] = sio
    return socketio.ASGIApp(sio, other_asgi_app=quart_app)


def plain_message(message: str) -> str:
    """pydantic's message without its jargon prefix: ``"Value error, give either…"`` →
    ``"give either…"``."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def validation_sentence(errors: list[dict[str, Any]]) -> str:
    """The first problem of a request as a sentence a person reads: ``"Valuation date: input
    should be a valid date."``; the others stay in ``details.errors``."""
    if not errors:
        return "Some details are missing or not right."
    first = errors[0]
    names = [p for p in first.get("loc", []) if isinstance(p, str) and p not in ("body", "query")]
    text = str(first.get("msg", "")).strip() or "not right"
    text = text[0].upper() + text[1:]
    if not text.endswith((".", "!", "?")):
        text += "."
    if not names:
        return text
    field = names[-1].removesuffix("_bps").removesuffix("_id").replace("_", " ")
    return f"{field[0].upper()}{field[1:]}: {text[0].lower()}{text[1:]}"


def _install_error_handlers(app: Quart) -> None:
    @app.errorhandler(AppError)
    async def _app_error(error: AppError) -> tuple[Response, int, dict[str, str]]:
        return jsonify(error.to_dict()), error.status, error.headers

    @app.errorhandler(RequestSchemaValidationError)
    async def _invalid_request(error: RequestSchemaValidationError) -> tuple[Response, int]:
        details: dict[str, Any] = {}
        if isinstance(error.validation_error, ValidationError):
            details["errors"] = [
                {"loc": list(e["loc"]), "msg": plain_message(e["msg"]), "type": e["type"]}
                for e in error.validation_error.errors()
            ]
        else:
            details["errors"] = [{"msg": plain_message(str(error.validation_error))}]
        message = validation_sentence(details["errors"])
        return jsonify(error_body("validation_error", message, details)), 422

    @app.errorhandler(ResponseSchemaValidationError)
    async def _invalid_response(error: ResponseSchemaValidationError) -> tuple[Response, int]:
        log.error("response failed its schema", error=str(error))
        return jsonify(error_body("internal_error", "something went wrong")), 500

    @app.errorhandler(HTTPException)
    async def _http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        # 413 has one code everywhere (the webhook limit answers it too).
        code = "payload_too_large" if status == 413 else (error.name or "error").lower()
        code = code.replace(" ", "_")
        return jsonify(error_body(code, error.description or error.name or "error")), status

    @app.errorhandler(Exception)
    async def _unexpected(error: Exception) -> tuple[Response, int]:
        service = unavailable_service(error)
        if service is not None:
            log.warning("service unavailable during a request", service=service, error=str(error))
            body = error_body(
                "service_unavailable", f"{service} is not answering; try again shortly",
                {"service": service},
            )  # fmt: skip
            return jsonify(body), 503
        log.exception("unhandled error", error=str(error))
        return jsonify(error_body("internal_error", "something went wrong")), 500


# Client-side screens of the single-page app (web/src/app.tsx routes): each answers with
# index.html and the app picks the screen. Listed, not a catch-all, so unknown /api, /dev, …
# paths keep their JSON 404/405 answers. The invite links the API hands out are /join/<token>.
SPA_PATHS = ("/market", "/signup", "/verify", "/login", "/forgot", "/clubs", "/clubs/<path:rest>",
             "/join/<path:rest>", "/admin", "/account/<path:rest>", "/crm", "/crm/<path:rest>",
             "/contact", "/advice", "/advice/<path:rest>", "/chits", "/chits/<path:rest>",
             "/campaigns", "/campaigns/<path:rest>",
             "/advisor", "/strategies/<path:rest>",
             "/advisor/<path:rest>")  # fmt: skip


WEB_CLIENT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)


def _install_web_client(app: Quart, dist: Path) -> None:
    """Serve the built browser client (web/dist) at ``/`` and at its client-side paths."""

    async def index(**_: str) -> Any:
        if not (dist / "index.html").is_file():
            body = error_body("web_client_not_built", f"no web client at {dist}: run `make web`")
            return jsonify(body), 503
        response = await send_from_directory(dist, "index.html")
        # The client is bundled and served from here: nothing else may run in its pages.
        response.headers["Content-Security-Policy"] = WEB_CLIENT_CSP
        response.headers["Cache-Control"] = "no-cache"
        return response

    app.add_url_rule("/", "index", index, methods=["GET"])
    for path in SPA_PATHS:
        app.add_url_rule(path, f"spa:{path}", index, methods=["GET"])

    @app.get("/favicon.svg")
    async def favicon() -> Any:
        return await send_from_directory(dist, "favicon.svg")

    @app.get("/sw.js")  # the service worker of Web Push (web/public/sw.js), scope "/"
    async def service_worker() -> Any:
        response = await send_from_directory(dist, "sw.js")
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/assets/<path:filename>")
    async def assets(filename: str) -> Any:
        response = await send_from_directory(dist / "assets", filename)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    @app.get("/vendor/<path:filename>")
    async def vendor(filename: str) -> Any:
        return await send_from_directory(dist / "vendor", filename)
