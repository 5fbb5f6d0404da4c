"""The SMS templates Samooh sends, each registered on a DLT platform as Indian rules require
(TRAI's Telecom Commercial Communications Customer Preference Regulations, 2018: a business
sends commercial SMS only from a registered header — the sender id — and only with a template
registered under its DLT entity; the operator drops anything else). ``template_id`` is MSG91's
id of the template, which MSG91 maps to ``dlt_template_id`` (the DLT "template id", 19 digits)
in its panel; variables are MSG91's ``##VAR1##`` placeholders, each at most 30 characters.

The ids below are the sandbox's; a deployment with real MSG91 templates sets its own with
``SAMOOH_SMS_TEMPLATE_IDS`` (a JSON object key → template id) — the texts must match what was
registered on DLT word for word."""

from __future__ import annotations

from dataclasses import dataclass

VAR_LIMIT = 30  # characters per DLT variable ({#var#})


@dataclass(frozen=True, slots=True)
class SmsTemplate:
    """One registered template: our key, MSG91's id, the DLT template id and its text."""

    key: str
    template_id: str
    dlt_template_id: str
    text: str
    variables: tuple[str, ...]


PHONE_OTP = SmsTemplate(
    key="phone_otp", template_id="samooh_phone_otp", dlt_template_id="1107170000000000001",
    text="##VAR1## is your Samooh code to verify this mobile number. It is valid for 10 "
         "minutes. Do not share it with anyone. - SAMOOH",
    variables=("VAR1",),
)  # fmt: skip
PAYMENT_DUE = SmsTemplate(
    key="chit_payment_due", template_id="samooh_chit_due", dlt_template_id="1107170000000000002",
    text="Samooh: Rs ##VAR1## is due on your chit ##VAR2## for month ##VAR3##. Pay by "
         "##VAR4## to bid in the auction. - SAMOOH",
    variables=("VAR1", "VAR2", "VAR3", "VAR4"),
)  # fmt: skip
AUCTION_REMINDER = SmsTemplate(
    key="chit_auction_reminder", template_id="samooh_chit_auction",
    dlt_template_id="1107170000000000003",
    text="Samooh: month ##VAR1## auction of your chit ##VAR2## opens at ##VAR3## UTC. Pay up "
         "to be eligible to bid. - SAMOOH",
    variables=("VAR1", "VAR2", "VAR3"),
)  # fmt: skip
AUCTION_RESULT = SmsTemplate(
    key="chit_auction_result", template_id="samooh_chit_result",
    dlt_template_id="1107170000000000004",
    text="Samooh: ticket ##VAR1## took month ##VAR2## of chit ##VAR3##. Your share of discount "
         "is Rs ##VAR4##; next instalment Rs ##VAR5##. - SAMOOH",
    variables=("VAR1", "VAR2", "VAR3", "VAR4", "VAR5"),
)  # fmt: skip

TEMPLATES: dict[str, SmsTemplate] = {
    t.key: t for t in (PHONE_OTP, PAYMENT_DUE, AUCTION_REMINDER, AUCTION_RESULT)
}
"""Every template by key."""


def render(template: SmsTemplate, variables: dict[str, str]) -> str:
    """The text a person receives (what the provider renders), for our records."""
    text = template.text
    for name in template.variables:
        text = text.replace(f"##{name}##", variables.get(name, ""))
    return text


def clip(value: str) -> str:
    """A variable cut to the DLT limit of ``VAR_LIMIT`` characters."""
    return value[:VAR_LIMIT]
