"""OpenAPI helpers: the one error body as a schema, a decorator that documents the error
statuses of a route (the codes themselves are listed in each route's docstring), and the
document builder that adds the statuses every route answers because of its shape."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from quart_schema import document_response
from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing import Rule

from app import idempotency

T = TypeVar("T", bound=Callable[..., Any])

BEARER_SCHEME: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}
}


class ErrorDetail(BaseModel):
    """``code`` is stable (clients switch on it); ``message`` is for people."""

    code: str = Field(examples=["invalid_credentials"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    """Every error: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail


def document_errors(*statuses: int) -> Callable[[T], T]:
    """Document ``ErrorResponse`` for each of ``statuses`` on the decorated route."""

    def decorate(func: T) -> T:
        for status in statuses:
            func = document_response(ErrorResponse, status)(func)
        return func

    return decorate


RAW_RESPONSES_ATTRIBUTE = "_samooh_raw_responses"


def document_raw_response(
    status: int, media_type: str | None = None, *, description: str = "", location: bool = False
) -> Callable[[T], T]:
    """Document an answer that is not JSON: a file (``media_type``, e.g. ``image/png``; ``*/*``
    for stored files of any type) or a redirect (``location=True``: a ``Location`` header).

    quart-schema documents only pydantic bodies; ``SamoohOpenAPIProvider`` adds these."""

    def decorate(func: T) -> T:
        response: dict[str, Any] = {"description": description or f"{status}"}
        if media_type is not None:
            response["content"] = {media_type: {"schema": {"type": "string", "format": "binary"}}}
        if location:
            response["headers"] = {"Location": {"required": True, "schema": {"type": "string"}}}
        responses = {**getattr(func, RAW_RESPONSES_ATTRIBUTE, {}), status: response}
        setattr(func, RAW_RESPONSES_ATTRIBUTE, responses)
        return func

    return decorate


# -- The statuses every operation can answer, added centrally -------------------------------
#
# quart-schema documents what each route declares (``validate_response``, ``document_errors``,
# ``require_auth``). What the app answers around the handler is the same for every route and
# is added here from the route's shape, so the description never lags behind the code:
#
#   JSON body          400 malformed_json (app/inputs.py), 413 payload_too_large
#                      (MAX_CONTENT_LENGTH), 415 unsupported_media_type (app/request.py),
#                      422 validation_error
#   query string       422 validation_error
#   path parameters    404 (the thing named in the path does not exist or is not yours)
#   Idempotency-Key    the header itself, 400 idempotency_key_required, 409
#                      idempotency_in_progress, 422 idempotency_key_reused (app/idempotency.py)
#   any /api/v1 route  503 service_unavailable (a backing service did not answer)
#
# Only ``/api/…`` routes are described: the web client's pages and assets, ``/metrics`` and
# ``/asyncapi.json`` are not operations of this API.

NO_BACKING_SERVICE = frozenset({"/api/health"})


def _is_idempotent(view: Callable[..., Any]) -> bool:
    """Whether ``@idempotent`` wraps the view (found by the file its wrapper is defined in)."""
    func: Any = view
    while func is not None:
        code = getattr(func, "__code__", None)
        if code is not None and code.co_filename == idempotency.__file__:
            return True
        func = getattr(func, "__wrapped__", None)
    return False


def common_statuses(
    path: str, operation: dict[str, Any], *, has_path_parameters: bool, idempotent: bool
) -> set[int]:
    """The error statuses an operation answers because of its shape (see the table above)."""
    statuses: set[int] = set()
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        statuses |= {400, 413, 415, 422}
    if any(p.get("in") == "query" for p in operation.get("parameters", [])):
        statuses.add(422)
    if has_path_parameters:
        statuses.add(404)
    if idempotent:
        statuses |= {400, 409, 422}
    if path not in NO_BACKING_SERVICE:
        statuses.add(503)
    return statuses


class SamoohOpenAPIProvider(OpenAPIProvider):
    """quart-schema's document builder with the app's common error statuses added to every
    operation, the ``Idempotency-Key`` header on idempotent ones, and only ``/api/`` routes."""

    def generate_rules(self) -> Iterable[Rule]:
        """The API's rules: those under ``/api/``."""
        return (rule for rule in super().generate_rules() if rule.rule.startswith("/api/"))

    def operation_id(self, method: str, path: str, func: Callable[..., Any]) -> str | None:
        """quart-schema's ``<method>_<handler name>``, made unique: a handler name that serves
        more than one path (``send`` in chat and in broadcasts, one handler under two paths)
        is named by its path instead (``post_clubs_club_id_messages``), so every operationId
        names one operation, as OpenAPI requires."""
        base = super().operation_id(method, path, func)
        if base is None or func.__name__ not in self._shared_names():
            return base
        words = [w.strip("{}<>").split(":")[-1] for w in path.split("/")]
        return "_".join([method.lower(), *(w for w in words[3:] if w)]).replace("-", "_")

    def _shared_names(self) -> set[str]:
        """Handler names that serve more than one API path (computed once)."""
        cached: set[str] | None = getattr(self, "_shared", None)
        if cached is None:
            paths: dict[str, set[str]] = {}
            for rule in self.generate_rules():
                func = self._app.view_functions[rule.endpoint]
                paths.setdefault(func.__name__, set()).add(rule.rule)
            cached = {name for name, seen in paths.items() if len(seen) > 1}
            self._shared = cached
        return cached

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        """quart-schema's path objects of ``rule``, each operation completed with
        ``common_statuses`` as ``ErrorResponse`` answers."""
        paths, components = super().build_paths(rule)
        view = self._app.view_functions[rule.endpoint]
        idempotent = _is_idempotent(view)
        raw: dict[int, dict[str, Any]] = getattr(view, RAW_RESPONSES_ATTRIBUTE, {})
        error, error_components = self.build_response_object(ErrorResponse, None)
        for path, operations in paths.items():
            for method, shared in list(operations.items()):
                # quart-schema shares one responses dict between a rule's methods: copy it.
                operation = {**shared, "responses": dict(shared["responses"]),
                             "parameters": list(shared.get("parameters", []))}  # fmt: skip
                if idempotent:
                    operation["parameters"].append(IDEMPOTENCY_KEY_PARAMETER)
                statuses = common_statuses(
                    path, operation, has_path_parameters=bool(rule.arguments),
                    idempotent=idempotent,
                )  # fmt: skip
                for status, response in raw.items():
                    operation["responses"].setdefault(status, response)
                for status in sorted(statuses):
                    operation["responses"].setdefault(status, error)
                operations[method] = operation
        return paths, {**components, **error_components}


IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": idempotency.KEY_HEADER,
    "in": "header",
    "required": True,
    "description": "your key for this request: the same key and body replay the first answer",
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH,
               "pattern": "^[A-Za-z0-9_.:-]+$"},
}  # fmt: skip
