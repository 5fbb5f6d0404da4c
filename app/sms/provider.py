"""SMS adapter: MSG91's "Send SMS via Flow" API (also drives the local sandbox, which follows
its shape: devtools/sms_sandbox).

Sources (MSG91 API docs, "Send SMS via FLOW"): ``POST https://control.msg91.com/api/v5/flow``
with the ``authkey`` header and JSON ``{"template_id", "sender", "short_url": "0",
"recipients": [{"mobiles": "919XXXXXXXXX", "VAR1": …}]}`` (mobiles in international form
without "+"); the answer is ``{"type": "success", "message": "<request id>"}`` or ``{"type":
"error", "message": …}``. The sender id is the DLT-registered header; the template is the one
MSG91 maps to its DLT template id (app/sms/templates.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from app.config import Settings
from app.sms.errors import SmsRejected, SmsUnavailable
from app.sms.templates import SmsTemplate


@dataclass(frozen=True, slots=True)
class SmsSent:
    """What the provider said: its name and its request id for the message."""

    provider: str
    request_id: str


class Msg91:
    """MSG91's flow API at ``api_url`` (the sandbox with ``name="sandbox"``)."""

    def __init__(self, *, name: str, api_url: str, auth_key: str, sender: str,
                 template_ids: dict[str, str], timeout_seconds: float = 10.0) -> None:  # fmt: skip
        self.name = name
        self._url = f"{api_url.rstrip('/')}/api/v5/flow"
        self._auth_key = auth_key
        self._sender = sender
        self._template_ids = template_ids
        self._timeout = timeout_seconds

    def template_id(self, template: SmsTemplate) -> str:
        """MSG91's id of ``template`` here (settings may override the default)."""
        return self._template_ids.get(template.key, template.template_id)

    async def send(self, template: SmsTemplate, e164: str, variables: dict[str, str]) -> SmsSent:
        """Send ``template`` with ``variables`` to ``e164`` (``+91…``).

        Raises SmsUnavailable (no answer, 5xx, 429: safe to retry) or SmsRejected (4xx, or an
        ``error`` answer: retrying the same message will not help)."""
        body = {
            "template_id": self.template_id(template), "sender": self._sender, "short_url": "0",
            "recipients": [{"mobiles": e164.lstrip("+"), **variables}],
        }  # fmt: skip
        headers = {"authkey": self._auth_key, "accept": "application/json"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout)) as http,
                http.post(self._url, json=body, headers=headers) as response,
            ):
                status = response.status
                try:
                    said = await response.json(content_type=None)
                except ValueError:
                    said = {}
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise SmsUnavailable(f"{self.name} did not answer: {type(exc).__name__}",
                                 details={"service": self.name}) from exc  # fmt: skip
        message = str(said.get("message", "")) if isinstance(said, dict) else ""
        if status >= 500 or status == 429:
            raise SmsUnavailable(f"{self.name} answered {status}: {message}",
                                 details={"service": self.name})  # fmt: skip
        if status >= 400 or not isinstance(said, dict) or said.get("type") != "success":
            raise SmsRejected(
                f"{self.name} refused the message: {message}",
                details={"provider_message": message[:200], "status": status},
            )
        return SmsSent(self.name, message)


def sms_provider(settings: Settings) -> Msg91:
    """The SMS adapter of ``sms_provider``: the sandbox (default) or MSG91."""
    if settings.sms_provider == "msg91":
        return Msg91(
            name="msg91", api_url=settings.msg91_api_url,
            auth_key=settings.msg91_auth_key.get_secret_value(), sender=settings.sms_sender_id,
            template_ids=settings.sms_template_ids,
        )  # fmt: skip
    return Msg91(
        name="sandbox", api_url=settings.sms_sandbox_url,
        auth_key=settings.sms_sandbox_auth_key, sender=settings.sms_sender_id,
        template_ids=settings.sms_template_ids,
    )  # fmt: skip
