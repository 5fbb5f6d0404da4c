"""Locust users for bench/http_load.py: each logs in once (``POST /api/v1/auth/login``) with an
account the bench seeded, then reads its club page, portfolio and proposals and writes a vote
and a (manual) contribution, in the weights below. ``SAMOOH_BENCH_PEOPLE`` names the JSON file
of the seeded accounts ``[{email, password, club_id, proposal_id}]``."""

from __future__ import annotations

import itertools
import json
import os
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

PEOPLE: list[dict[str, str]] = json.loads(Path(os.environ["SAMOOH_BENCH_PEOPLE"]).read_text())
_next = itertools.count()


class Member(HttpUser):
    """One club member using the main screens."""

    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.me = PEOPLE[next(_next) % len(PEOPLE)]
        with self.client.post("/api/v1/auth/login", name="POST /auth/login", catch_response=True,
                              json={"email": self.me["email"],
                                    "password": self.me["password"]}) as reply:  # fmt: skip
            if reply.status_code != 200:
                reply.failure(f"login {reply.status_code}")
                self.headers: dict[str, str] = {}
                return
            self.headers = {"Authorization": f"Bearer {reply.json()['access_token']}"}
        self.choice = itertools.cycle(["yes", "no"])

    def _get(self, path: str, name: str) -> Any:
        return self.client.get(path, headers=self.headers, name=name)

    @task(4)
    def club_page(self) -> None:
        self._get(f"/api/v1/clubs/{self.me['club_id']}", "GET /clubs/{id}")

    @task(3)
    def portfolio(self) -> None:
        self._get(f"/api/v1/clubs/{self.me['club_id']}/portfolio", "GET /clubs/{id}/portfolio")

    @task(3)
    def proposals(self) -> None:
        self._get(f"/api/v1/clubs/{self.me['club_id']}/proposals", "GET /clubs/{id}/proposals")

    @task(2)
    def vote(self) -> None:
        self.client.post(f"/api/v1/proposals/{self.me['proposal_id']}/votes",
                         json={"choice": next(self.choice)}, headers=self.headers,
                         name="POST /proposals/{id}/votes")  # fmt: skip

    @task(1)
    def contribute(self) -> None:
        self.client.post(f"/api/v1/clubs/{self.me['club_id']}/contributions",
                         json={"amount": "100.00", "method": "manual", "note": "bench"},
                         headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex},
                         name="POST /clubs/{id}/contributions")  # fmt: skip
