"""HTTP helpers of the files, KYC and reports tests: a logged-in person with upload and
download helpers."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.identity.conftest import Account, Api, Reply, provision


class Person:
    """One logged-in account talking to the live API."""

    def __init__(self, api: Api, account: Account, token: str) -> None:
        self.api, self.account, self.token = api, account, token

    @property
    def id(self) -> str:
        return self.account.user_id

    async def call(self, method: str, path: str, json: Any = None, *,
                   headers: dict[str, str] | None = None,
                   params: dict[str, str] | None = None) -> Reply:  # fmt: skip
        return await self.api.call(method, path, json=json, token=self.token, headers=headers,
                                   params=params)  # fmt: skip

    async def ok(self, method: str, path: str, json: Any = None, *, status: int = 200,
                 params: dict[str, str] | None = None) -> Any:  # fmt: skip
        reply = await self.call(method, path, json, params=params)
        assert reply.status == status, (method, path, reply.status, reply.body)
        return reply.body

    async def upload(
        self,
        data: bytes,
        filename: str,
        purpose: str = "receipt",
        club_id: str | None = None,
        content_type: str = "application/pdf",
    ) -> Reply:
        form = aiohttp.FormData()
        form.add_field("purpose", purpose)
        if club_id:
            form.add_field("club_id", club_id)
        form.add_field("file", data, filename=filename, content_type=content_type)
        headers = {"X-Forwarded-For": self.api.ip, "Authorization": f"Bearer {self.token}"}
        async with self.api.http.post(f"{self.api.base}/api/v1/files", data=form,
                                      headers=headers) as response:  # fmt: skip
            body = await response.json() if response.content_type == "application/json" else (
                await response.read())  # fmt: skip
            return Reply(response.status, body, dict(response.headers))

    async def upload_raw(self, data: bytes, filename: str, purpose: str = "receipt") -> Reply:
        """A multipart body built by hand, so the file name goes out exactly as given."""
        boundary = "samoohboundary7d93"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n'
                f'{purpose}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"X-Forwarded-For": self.api.ip, "Authorization": f"Bearer {self.token}",
                   "Content-Type": f"multipart/form-data; boundary={boundary}"}  # fmt: skip
        async with self.api.http.post(f"{self.api.base}/api/v1/files", data=body,
                                      headers=headers) as response:  # fmt: skip
            return Reply(response.status, await response.json(), dict(response.headers))

    async def download(self, url: str) -> tuple[int, bytes, dict[str, str]]:
        """Open a signed link without any credentials, like a browser."""
        async with self.api.http.get(url) as response:
            return response.status, await response.read(), dict(response.headers)


async def login(api: Api, roles: list[Any] | None = None, tag: str = "person") -> Person:
    account = await provision(roles, tag=tag)
    tokens = await api.tokens(account)
    return Person(api, account, tokens["access_token"])
