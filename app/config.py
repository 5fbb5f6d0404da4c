"""Typed settings for every Samooh process (web, workers, replayer, scripts).

One ``Settings`` class, read from the environment (prefix ``SAMOOH_``) and an optional ``.env``
file. The three service URLs are also read without the prefix (``MONGODB_URL``,
``KAFKA_BOOTSTRAP_SERVERS``, ``REDIS_URL``) because the local-services script and
docker-compose set them under those names.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["dev", "test", "production"]
PaymentProvider = Literal["sandbox", "razorpay", "stripe"]

# The sandbox payment provider's development credentials (devtools/payments_sandbox/). They are
# in the repository, so production refuses to start with them (``Settings._payment_secrets``).
SANDBOX_DEV_KEY_ID = "rzp_test_samoohsandbox"
SANDBOX_DEV_KEY_SECRET = "sandbox-dev-key-secret"  # noqa: S105  (a published dev credential)
SANDBOX_DEV_WEBHOOK_SECRET = "sandbox-dev-webhook-secret"  # noqa: S105

# Identity (app/identity/): development keys, published in the repository, so production refuses
# to start with them (``Settings._identity_secrets``). The JWT key is an Ed25519 private key (PEM).
DEV_SECRET_KEY = "samooh-dev-secret-key-not-for-production-use-0123456789"  # noqa: S105
DEV_JWT_PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIM/1dNYkqPhO3hccLXVdbmGxe5y07/Z6O+RtgrfB37Sm\n"
    "-----END PRIVATE KEY-----\n"
)


class Settings(BaseSettings):
    """Process settings. Defaults are the local ``make run`` profile.

    Service URLs:
        mongodb_url: a MongoDB connection string. Locally it carries ``retryWrites=false``
            (docs/local-services.md: SecantusDB slows down under retryable writes).
        kafka_bootstrap_servers: ``host:port[,host:port…]``.
        redis_url: ``redis://host:port/db``.
    """

    model_config = SettingsConfigDict(env_prefix="SAMOOH_", env_file=".env", extra="ignore")

    environment: Environment = "dev"
    app_name: str = "samooh"

    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27018/?replicaSet=secantus&retryWrites=false",
        validation_alias=AliasChoices("MONGODB_URL", "SAMOOH_MONGODB_URL"),
    )
    mongodb_database: str = "samooh"
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:19092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "SAMOOH_KAFKA_BOOTSTRAP_SERVERS"),
    )
    # Copies of each topic the app creates (streams/admin.py): 1 on the local single broker,
    # 3 on the production cluster (docker-compose.yml).
    kafka_replication_factor: int = Field(default=1, ge=1, le=7)
    redis_url: str = Field(
        default="redis://127.0.0.1:6380/0",
        validation_alias=AliasChoices("REDIS_URL", "SAMOOH_REDIS_URL"),
    )
    # How long start-up waits for each service before failing with a message naming it.
    service_timeout_seconds: float = Field(default=8.0, gt=0, le=120)

    # Redis keys of shared state (latest quotes, watch-lists) start with this.
    redis_prefix: str = Field(default="samooh", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    # Kafka topic names are prefixed so several environments can share one cluster.
    topic_prefix: str = "samooh"
    # The Faust consumer group / application id.
    worker_id: str = "samooh-worker"
    worker_web_port: int = 6066
    worker_data_dir: str = ".local/worker"
    # Backups (python -m app.ops backup|restore|prune|verify; app/ops/backup.py): where they go
    # and what the retention keeps — the newest ``backup_keep``, and beyond them nothing older
    # than ``backup_max_age_days``.
    backup_dir: str = ".local/backups"
    backup_keep: int = Field(default=7, ge=1, le=1000)
    backup_max_age_days: int = Field(default=30, ge=1, le=3650)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    cors_origins: list[str] = Field(default_factory=list)
    web_dist: str = "web/dist"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "debug", "info", "warning", "error"] = (
        "INFO"
    )
    log_json: bool = True
    # Operations (app/telemetry.py, README "Operations"). Traces: OTLP over HTTP to this
    # collector (e.g. ``http://otel-collector:4318``); ``tracing`` records spans (trace ids in
    # logs and error answers) even without one. Errors: Sentry's SDK with this DSN. All off by
    # default.
    otlp_endpoint: str | None = Field(default=None, pattern=r"^https?://\S+$")
    tracing: bool = False
    trace_sample_ratio: float = Field(default=1.0, ge=0, le=1)
    sentry_dsn: SecretStr | None = None
    # Prometheus: a worker serves its metrics (consumer lag, outbox) on this port (0: off),
    # measured every ``metrics_interval_seconds``.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"
    metrics_interval_seconds: float = Field(default=15.0, gt=0, le=3600)
    # Web Push (app/push/): the VAPID P-256 private key (PEM); unset, one is generated on first
    # use into ``vapid_key_file`` and kept there. ``vapid_subject`` is the contact push services
    # see (``mailto:`` or ``https:``).
    vapid_private_key: SecretStr | None = None
    vapid_key_file: str = ".local/vapid/private_key.pem"
    vapid_subject: str = Field(default="mailto:ops@samooh.local", pattern=r"^(mailto:|https://)")

    # Market replayer: the embedded feed of real daily history (app/market/dataset.py).
    replay_start: dt.date = dt.date(2012, 5, 18)
    replay_end: dt.date = dt.date(2013, 3, 1)
    replay_seconds_per_day: float = Field(default=30.0, gt=0)
    replay_ticks_per_day: int = Field(default=60, ge=4, le=10_000)
    replay_symbols: list[str] = Field(default_factory=list)  # empty: every symbol in the catalogue
    replay_loop: bool = True

    # Market data (app/market/providers.py): ``embedded`` (the replayer's cache and candles) or
    # ``http`` (a quote micro-service at ``market_http_base_url``), with a per-call timeout,
    # ``market_http_attempts`` tries backing off from ``market_http_backoff_seconds``, and a
    # circuit breaker opening after ``market_breaker_failures`` failed calls for
    # ``market_breaker_reset_seconds``.
    market_provider: Literal["embedded", "http"] = "embedded"
    market_http_base_url: str = ""
    market_http_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    market_http_attempts: int = Field(default=3, ge=1, le=10)
    market_http_backoff_seconds: float = Field(default=0.2, gt=0, le=30)
    market_breaker_failures: int = Field(default=3, ge=1, le=100)
    market_breaker_reset_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Quote ticks to one room are coalesced per symbol: at most one per symbol per window.
    quote_coalesce_ms: int = Field(default=250, ge=0, le=10_000)
    # A web process holds quotes from Redis per room and symbol for this window, then sends each
    # socket one packet (app/realtime/fanout.py); 0: python-socketio's plain room emit. On by
    # default: docs/realtime-bench.md has the figures.
    quote_fanout_ms: int = Field(default=50, ge=0, le=10_000)
    # The JSON codec of Socket.IO packets: the standard library or orjson.
    socket_json: Literal["json", "orjson"] = "json"

    # Orders (app/orders/): the broker adapter (``paper``: the embedded paper broker filling
    # against the tick stream). Market orders fill at the next tick ± ``broker_slippage_bps``;
    # one tick fills at most ``broker_volume_share_bps`` of the shares traded since the previous
    # tick, or — for series without volume — ``broker_tick_notional_cap`` minor units. Fees per
    # fill: ``broker_fee_bps`` of the fill's value, at least ``broker_fee_min`` minor units. A
    # market buy sets aside its estimate at the last price plus ``broker_market_buffer_bps``.
    # NAV is sent to a club's room at most once per ``portfolio_nav_interval_ms``.
    broker: Literal["paper"] = "paper"
    broker_slippage_bps: int = Field(default=5, ge=0, le=1_000)
    broker_volume_share_bps: int = Field(default=1_000, ge=1, le=10_000)
    broker_tick_notional_cap: int = Field(default=10_000_000, ge=1)
    broker_fee_bps: int = Field(default=10, ge=0, le=1_000)
    broker_fee_min: int = Field(default=100, ge=0)
    broker_market_buffer_bps: int = Field(default=500, ge=0, le=5_000)
    # A buy of an instrument in another currency than the club's holds its reserve converted
    # at the ECB rate of the quote's day plus this margin (rate moves until the fill's day).
    broker_fx_margin_bps: int = Field(default=300, ge=0, le=5_000)
    # Real brokers (app/brokers/): a club may link its own Kite Connect or Alpaca account. The
    # local broker sandbox (``python -m devtools.brokers_sandbox``) speaks both APIs at this
    # URL (Kite under ``/kite``, Alpaca under ``/alpaca``); links made with
    # ``environment="sandbox"`` go there. Open orders at a linked broker are polled every
    # ``broker_poll_seconds`` (a missed postback or stream event is recovered that way); an
    # order the broker could not take is re-sent after ``broker_resend_seconds``.
    broker_sandbox_url: str = "http://127.0.0.1:8020"
    broker_poll_seconds: float = Field(default=5.0, gt=0, le=3_600)
    broker_resend_seconds: float = Field(default=10.0, gt=0, le=3_600)
    portfolio_nav_interval_ms: int = Field(default=1_000, ge=0, le=60_000)

    # Clubs (app/clubs/): withdrawals and payouts of at least this many paise need MFA and a
    # fresh step-up code (₹1,00,000.00 by default); below it, only actors with MFA give one.
    step_up_threshold: int = Field(default=10_000_000, ge=0)

    # Payments (app/payments/): the provider new checkouts go to, and each provider's
    # credentials. A provider's webhook endpoint works only when its webhook secret is set.
    payment_provider: PaymentProvider = "sandbox"
    # An online contribution whose checkout stays unpaid this long is given up (``failed``,
    # ``checkout_expired``): it stops counting toward the KYC allowance and blocking a leave.
    # Stripe's checkout sessions expire after 24 hours by default.
    checkout_expiry_hours: int = Field(default=24, ge=1, le=24 * 30)
    # Where the app reaches the sandbox provider and where browsers open its checkout pages;
    # ``python -m devtools.payments_sandbox`` listens on this URL's host and port.
    payment_sandbox_url: str = "http://127.0.0.1:8010"
    payment_sandbox_key_id: str = SANDBOX_DEV_KEY_ID
    payment_sandbox_key_secret: SecretStr = SecretStr(SANDBOX_DEV_KEY_SECRET)
    payment_sandbox_webhook_secret: SecretStr = SecretStr(SANDBOX_DEV_WEBHOOK_SECRET)
    # Where the sandbox delivers webhooks; empty: ``<public_url>/api/v1/webhooks/sandbox``.
    payment_sandbox_webhook_url: str = ""
    razorpay_api_url: str = "https://api.razorpay.com"
    razorpay_key_id: str = ""
    razorpay_key_secret: SecretStr = SecretStr("")
    razorpay_webhook_secret: SecretStr = SecretStr("")
    stripe_api_url: str = "https://api.stripe.com"
    stripe_secret_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    # Stripe-Signature timestamps further than this from now (either way) are refused.
    stripe_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    # Payouts (campaign releases and profit shares): the sandbox (default) or RazorpayX, which
    # uses the Razorpay key pair above and the business's RazorpayX account number.
    payout_provider: Literal["sandbox", "razorpayx"] = "sandbox"
    razorpayx_account_number: str = ""
    # SMS (app/sms/): the sandbox (default; ``python -m devtools.sms_sandbox`` listens on
    # ``sms_sandbox_url``) or MSG91; the DLT-registered sender id (header) and, for MSG91, the
    # ids of our DLT templates in its panel (JSON object template key → id).
    sms_provider: Literal["sandbox", "msg91"] = "sandbox"
    sms_sandbox_url: str = "http://127.0.0.1:8011"
    sms_sandbox_auth_key: str = "samooh-sandbox-authkey"
    sms_sender_id: str = "SAMOOH"
    sms_template_ids: dict[str, str] = Field(default_factory=dict)
    msg91_api_url: str = "https://control.msg91.com"
    msg91_auth_key: SecretStr = SecretStr("")
    # Campaigns (app/campaigns/): an unpaid reservation is released after this many seconds;
    # timers run every ``campaign_sweep_seconds``; a payout is tried this many times. (The
    # yearly KYC-free limit is ``kyc_contribution_limit``, one figure for clubs and campaigns.)
    campaign_reservation_seconds: int = Field(default=900, ge=5, le=86_400)
    campaign_sweep_seconds: float = Field(default=2.0, gt=0, le=300)
    # the sweep telling owners and investors of overdue profit reports (once per report)
    campaign_report_check_seconds: float = Field(default=15.0, gt=0, le=3600)
    campaign_payout_attempts: int = Field(default=5, ge=1, le=50)
    # Webhook bodies larger than this are refused with 413 before anything is parsed.
    payment_webhook_max_bytes: int = Field(default=256 * 1024, ge=1024, le=1024 * 1024)
    # The payment outbox (app/payments/service.py): how often each web process looks for
    # outcomes stored but not yet on Kafka, and how old one must be before the sweep sends it
    # (its publisher died, or Kafka was away and the provider gave up re-delivering).
    payment_outbox_sweep_seconds: float = Field(default=30.0, gt=0, le=3600)
    payment_outbox_republish_after_seconds: float = Field(default=60.0, ge=1, le=86_400)

    # Identity and access (app/identity/; README "Identity settings" says why these values).
    # HMAC key for e-mailed codes and recovery codes, and the key TOTP secrets are encrypted with
    # (HKDF sub-keys of it); at least 32 characters.
    secret_key: SecretStr = Field(default=SecretStr(DEV_SECRET_KEY), min_length=32)
    # Ed25519 private key (PKCS#8 PEM) signing access tokens; algorithm Ed25519 (RFC 9864).
    jwt_private_key: SecretStr = SecretStr(DEV_JWT_PRIVATE_KEY)
    jwt_issuer: str = "samooh"
    jwt_audience: str = "samooh-api"
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=60, le=3600)
    refresh_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=3600, le=90 * 24 * 3600)
    # A refresh spent again with the same client nonce this soon, while its successor is still
    # unused, is the same client whose answer was lost (a page reloaded mid-refresh): it gets the
    # same successor again (app/identity/repository.py). 0: every second use revokes the login.
    refresh_retry_grace_seconds: int = Field(default=30, ge=0, le=120)
    guest_token_ttl_seconds: int = Field(default=15 * 60, ge=60, le=3600)
    password_min_length: int = Field(default=10, ge=8, le=64)
    email_code_ttl_seconds: int = Field(default=10 * 60, ge=60, le=3600)
    email_code_max_attempts: int = Field(default=5, ge=1, le=20)
    # Failed logins per e-mail before a lock; the lock lasts base × 2^(failures − threshold) s.
    login_lockout_threshold: int = Field(default=5, ge=1, le=50)
    login_lockout_base_seconds: int = Field(default=60, ge=1, le=3600)
    login_lockout_max_seconds: int = Field(default=15 * 60, ge=1, le=24 * 3600)
    # Rate limits ("N/period[;N/period]", parsed by the ``limits`` library), keyed as noted.
    rate_limit_signup: str = "5/minute;20/hour"  # per e-mail address signing up
    # A whole club signing up together on one Wi-Fi shares an address: the per-network ceiling
    # is generous, the tight limit is per e-mail address (issue #14).
    rate_limit_signup_network: str = "60/minute;300/hour"  # per client IP
    rate_limit_login: str = "30/minute;300/hour"  # per client IP (plus the per-e-mail lockout)
    rate_limit_sms_code: str = "3/minute;10/hour"  # per person: codes sent to verify a mobile
    rate_limit_verify: str = "10/minute;60/hour"  # per client IP: e-mail codes and resets
    rate_limit_resend: str = "1/minute;5/hour"  # per e-mail address: every code mail sent
    rate_limit_reset: str = "5/hour"  # per client IP: password-reset requests
    rate_limit_refresh: str = "60/minute"  # per client IP
    rate_limit_mfa: str = "5/5minutes;20/hour"  # per account: wrong TOTP / recovery codes
    rate_limit_guest: str = "30/minute"  # per client IP: anonymous market-data tokens
    # How many reverse proxies append to X-Forwarded-For in front of the web server; 0 trusts
    # none and uses the socket's peer address.
    trusted_proxy_hops: int = Field(default=0, ge=0, le=5)
    totp_issuer: str = "Samooh"
    # Mail: ``smtp://[user:pass@]host:port`` (plain), ``smtp+starttls://…`` or ``smtps://…``.
    smtp_url: SecretStr = Field(
        default=SecretStr("smtp://127.0.0.1:2525"),
        validation_alias=AliasChoices("SMTP_URL", "SAMOOH_SMTP_URL"),
    )
    mail_from: str = "Samooh <no-reply@samooh.in>"
    mail_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Where the local mail server (python -m devtools.mailserver) stores what it receives; read by
    # GET /api/v1/dev/outbox and /dev/mail in the dev and test environments only.
    dev_mailbox_dir: str = ".local/run/smtp/mailbox"
    # OpenID Connect login with Google. Empty client id: the endpoints answer 404.
    oauth_google_client_id: str = ""
    oauth_google_client_secret: SecretStr = SecretStr("")
    oauth_google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    # Empty: ``<public_url>/api/v1/auth/oauth/google/callback``.
    oauth_google_redirect_uri: str = ""

    # Live club rooms (app/chat, app/proposals, app/notifications). A proposal stays open at least
    # ``proposal_min_open_seconds``; the worker's timer looks for due proposals, reminders and
    # pending notification e-mails every ``proposal_sweep_seconds``; members who have not voted
    # are reminded ``proposal_reminder_seconds`` before the deadline (or half-way through a
    # shorter vote).
    proposal_min_open_seconds: int = Field(default=300, ge=1, le=86_400)
    proposal_max_open_days: int = Field(default=90, ge=1, le=365)
    proposal_sweep_seconds: float = Field(default=2.0, gt=0, le=300)
    advisory_drift_check_seconds: float = Field(default=300.0, gt=0, le=86_400)  # drift agent
    proposal_reminder_seconds: int = Field(default=3600, ge=1, le=7 * 86_400)
    # A reconnecting client gets at most this many missed room events; beyond, it refetches.
    room_catch_up_limit: int = Field(default=500, ge=10, le=10_000)
    # Chat messages a member may send per club (a flood guard; "N/period[;N/period]").
    rate_limit_chat: str = "20/10seconds;300/hour"

    # Files (app/files/; README "Files, KYC and reports"). Uploads up to ``file_max_bytes``,
    # stored by content hash under ``files_dir`` (``local``) or in an S3-compatible bucket
    # (``s3``); downloaded only through signed links that live ``file_link_ttl_seconds``.
    file_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    file_storage: Literal["local", "s3"] = "local"
    files_dir: str = ".local/files"
    file_link_ttl_seconds: int = Field(default=300, ge=10, le=24 * 3600)
    # The scan every upload passes before it is accepted: ``eicar`` (built in: the EICAR test
    # file) or ``clamd`` (a ClamAV daemon at ``clamd_url``: ``tcp://host:port`` or
    # ``unix:///path/clamd.ctl``). A scanner that does not answer refuses the upload (503).
    file_scanner: Literal["eicar", "clamd"] = "eicar"
    clamd_url: str = "tcp://127.0.0.1:3310"
    clamd_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    s3_bucket: str = ""
    s3_endpoint_url: str = ""  # empty: AWS itself; else MinIO, R2, Ceph… (path-style)
    s3_region: str = "ap-south-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    s3_prefix: str = "files/"

    # KYC (app/kyc/). Contributions by a person who is not KYC-verified may add up to this many
    # paise per financial year (April–March) across clubs (₹50,000.00); 0 requires KYC always.
    kyc_contribution_limit: int = Field(default=5_000_000, ge=0)
    # Expiry alerts go out this many days before a verified document expires (each once).
    kyc_expiry_alert_days: list[int] = Field(default_factory=lambda: [30, 7, 1])
    # A utility bill or bank statement given as address proof must be at most this old.
    kyc_address_proof_max_age_days: int = Field(default=90, ge=1, le=3650)
    # AES-256-GCM key of Aadhaar numbers at rest (≥ 32 characters); empty: an HKDF sub-key of
    # ``secret_key``. Set it to rotate KYC data separately from the identity keys.
    kyc_data_key: SecretStr = SecretStr("")

    @field_validator("kyc_expiry_alert_days")
    @classmethod
    def _alert_days(cls, value: list[int]) -> list[int]:
        if not value or any(day < 1 or day > 365 for day in value):
            raise ValueError("give 1 to 365 days, e.g. [30, 7, 1]")
        return sorted(set(value), reverse=True)

    @field_validator("kyc_data_key")
    @classmethod
    def _kyc_key(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and len(value.get_secret_value()) < 32:
            raise ValueError("kyc_data_key needs at least 32 characters (or leave it empty)")
        return value

    @model_validator(mode="after")
    def _file_storage(self) -> Settings:
        """S3 storage needs a bucket (a typo would otherwise surface on the first upload)."""
        if self.file_storage == "s3" and not self.s3_bucket.strip():
            raise ValueError("file_storage=s3 needs s3_bucket")
        return self

    @field_validator("replay_end")
    @classmethod
    def _end_after_start(cls, end: dt.date, info) -> dt.date:  # type: ignore[no-untyped-def]
        start = info.data.get("replay_start")
        if start is not None and end < start:
            raise ValueError("replay_end must not be before replay_start")
        return end

    @model_validator(mode="after")
    def _payment_secrets(self) -> Settings:
        """Production refuses the sandbox's published dev credentials and a provider with no
        secrets (a webhook nobody can verify, or checkouts that cannot be created)."""
        if self.environment != "production":
            return self
        if self.payment_provider == "sandbox":
            dev = {
                "payment_sandbox_key_secret": (
                    self.payment_sandbox_key_secret.get_secret_value() == SANDBOX_DEV_KEY_SECRET
                ),
                "payment_sandbox_webhook_secret": (
                    self.payment_sandbox_webhook_secret.get_secret_value()
                    == SANDBOX_DEV_WEBHOOK_SECRET
                ),
            }
            named = [name for name, is_dev in dev.items() if is_dev]
            if named:
                raise ValueError(
                    f"{', '.join(named)} must not be the sandbox's development secret in "
                    "production (set SAMOOH_PAYMENT_PROVIDER=razorpay or stripe with its keys)"
                )
        required = {
            "sandbox": {},
            "razorpay": {
                "razorpay_key_id": self.razorpay_key_id,
                "razorpay_key_secret": self.razorpay_key_secret.get_secret_value(),
                "razorpay_webhook_secret": self.razorpay_webhook_secret.get_secret_value(),
            },
            "stripe": {
                "stripe_secret_key": self.stripe_secret_key.get_secret_value(),
                "stripe_webhook_secret": self.stripe_webhook_secret.get_secret_value(),
            },
        }[self.payment_provider]
        missing = [name for name, value in required.items() if not value.strip()]
        if missing:
            raise ValueError(
                f"payment_provider={self.payment_provider} needs {', '.join(missing)} in production"
            )
        return self

    @field_validator(
        "rate_limit_signup", "rate_limit_signup_network", "rate_limit_login", "rate_limit_verify",
        "rate_limit_resend", "rate_limit_reset", "rate_limit_refresh", "rate_limit_mfa",
        "rate_limit_guest",
        "rate_limit_chat",
    )  # fmt: skip
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit such as '10/minute;100/hour': {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _identity_secrets(self) -> Settings:
        """Production refuses the published development keys and a JWT key that is not an
        Ed25519 private key (a typo would otherwise surface on the first login)."""
        from joserfc.jwk import OKPKey

        try:
            key = OKPKey.import_key(self.jwt_private_key.get_secret_value())
        except Exception as exc:
            raise ValueError("jwt_private_key must be an Ed25519 private key in PEM") from exc
        if key.curve_name != "Ed25519" or not key.is_private:
            raise ValueError("jwt_private_key must be an Ed25519 private key in PEM")
        if self.environment != "production":
            return self
        named = [
            name
            for name, is_dev in {
                "secret_key": self.secret_key.get_secret_value() == DEV_SECRET_KEY,
                "jwt_private_key": self.jwt_private_key.get_secret_value().strip()
                == DEV_JWT_PRIVATE_KEY.strip(),
            }.items()
            if is_dev
        ]
        if named:
            raise ValueError(
                f"{', '.join(named)} must not be the published development key in production "
                "(set SAMOOH_SECRET_KEY and SAMOOH_JWT_PRIVATE_KEY)"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment.

    Raises:
        pydantic.ValidationError: a setting is invalid (``describe_invalid_settings`` words it).
    """
    return Settings()


def describe_invalid_settings() -> str | None:
    """``None`` when the environment's settings are valid; otherwise one line per invalid
    setting naming its environment variable, e.g. ``invalid setting SAMOOH_PORT: …``."""
    try:
        Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            aliases = {
                "mongodb_url": "MONGODB_URL",
                "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
                "redis_url": "REDIS_URL",
            }
            name = aliases.get(field, f"SAMOOH_{field.upper()}" if field else "settings")
            lines.append(f"invalid setting {name}: {error['msg']}")
        return "\n".join(lines)
    return None


def settings_or_exit(process: str) -> Settings:
    """``get_settings()``, or exit with status 2 and the ``describe_invalid_settings`` lines
    (for the entry points: no traceback for a mistyped variable)."""
    try:
        return get_settings()
    except ValidationError:
        message = describe_invalid_settings() or "invalid settings"
        raise SystemExit(f"samooh {process}: {message}") from None
