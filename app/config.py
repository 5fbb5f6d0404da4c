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

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["dev", "test", "production"]


class Settings(BaseSettings):
    """Process settings. Defaults are the local ``make run`` profile.

    Service URLs:
        mongodb_url: a MongoDB connection string. Locally it carries ``retryWrites=false``
            (see shared/design/LOCAL-SERVICES.md: SecantusDB slows down under retryable writes).
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
    redis_url: str = Field(
        default="redis://127.0.0.1:6380/0",
        validation_alias=AliasChoices("REDIS_URL", "SAMOOH_REDIS_URL"),
    )
    # How long start-up waits for each service before failing with a message naming it.
    service_timeout_seconds: float = 8.0

    # Kafka topic names are prefixed so several environments can share one cluster.
    topic_prefix: str = "samooh"
    # The Faust consumer group / application id.
    worker_id: str = "samooh-worker"
    worker_web_port: int = 6066
    worker_data_dir: str = ".local/worker"

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    cors_origins: list[str] = Field(default_factory=list)
    web_dist: str = "web/dist"
    log_level: str = "INFO"
    log_json: bool = True

    # Market replayer: the embedded feed of real daily history (app/market/dataset.py).
    replay_start: dt.date = dt.date(2012, 5, 18)
    replay_end: dt.date = dt.date(2013, 3, 1)
    replay_seconds_per_day: float = Field(default=30.0, gt=0)
    replay_ticks_per_day: int = Field(default=60, ge=4, le=10_000)
    replay_symbols: list[str] = Field(default_factory=list)  # empty: every symbol in the catalogue
    replay_loop: bool = True

    @field_validator("replay_end")
    @classmethod
    def _end_after_start(cls, end: dt.date, info) -> dt.date:  # type: ignore[no-untyped-def]
        start = info.data.get("replay_start")
        if start is not None and end < start:
            raise ValueError("replay_end must not be before replay_start")
        return end

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
