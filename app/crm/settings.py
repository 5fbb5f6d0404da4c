"""CRM settings (environment prefix ``SAMOOH_CRM_``): score rules and weights, reminder and
score sweeps, the web form's limits, retention. Kept apart from app/config.py so the CRM's
knobs live with the CRM; read once per process through ``crm_settings()``."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CrmSettings(BaseSettings):
    """Every rule of the CRM that an operator may tune.

    Score (0–100, an integer): ``source`` points by lead source, ``engagement`` points per
    activity in the last ``score_engagement_days`` (capped), ``completeness`` points per filled
    profile field; the sum (capped at 100) is multiplied by the decay factor
    0.5 ** (days since the last activity / ``score_half_life_days``) and rounded half-even.
    """

    model_config = SettingsConfigDict(env_prefix="SAMOOH_CRM_", env_file=".env", extra="ignore")

    score_source_points: dict[str, int] = Field(
        default_factory=lambda: {
            "referral": 30,
            "web_form": 20,
            "event": 20,
            "manual": 10,
            "import": 5,
        }
    )
    score_engagement_points: int = Field(default=5, ge=0, le=100)
    score_engagement_cap: int = Field(default=40, ge=0, le=100)
    score_engagement_days: int = Field(default=30, ge=1, le=365)
    score_completeness_points: dict[str, int] = Field(
        default_factory=lambda: {
            "email": 10,
            "phone": 10,
            "city": 5,
            "company": 5,
            "investment_capacity": 10,
        }
    )
    score_half_life_days: float = Field(default=14.0, gt=0)
    # How often the worker looks for due reminders and stale scores (seconds).
    sweep_seconds: float = Field(default=5.0, gt=0)
    # Scores older than this are recomputed by the worker (decay moves with time).
    score_refresh_seconds: int = Field(default=3600, ge=1)
    # Public web-to-lead form: per client address, and per e-mail address submitted.
    rate_limit_web_form: str = "5/minute;30/hour"
    rate_limit_web_form_email: str = "3/hour;5/day"
    # Lost leads with no activity for this many days are erased by the retention job.
    retention_lost_days: int = Field(default=730, ge=1)
    # Client KYC documents expiring within this many days count as "expiring" in reports and
    # alert the client's manager.
    kyc_expiring_days: int = Field(default=30, ge=1, le=365)
    # Segment by declared investment capacity (paise): below the first bound ``mass``, below
    # the second ``affluent``, else ``hni``.
    segment_affluent_from: int = Field(default=10_00_000_00, ge=1)  # ₹10,00,000.00
    segment_hni_from: int = Field(default=1_00_00_000_00, ge=1)  # ₹1,00,00,000.00
    # Near-duplicate thresholds (rapidfuzz ratios, 0–100).
    near_name_ratio: int = Field(default=85, ge=1, le=100)
    near_email_ratio: int = Field(default=80, ge=1, le=100)
    import_max_rows: int = Field(default=5000, ge=1)
    default_phone_region: str = "IN"


@lru_cache(maxsize=1)
def crm_settings() -> CrmSettings:
    """The process's CRM settings (read from the environment once)."""
    return CrmSettings()
