"""A small typed client of the Kelpie API, for the CLI and the local platform.

Async only: the platform supervisor is async, and the CLI runs it with ``asyncio.run``.
"""

from types import TracebackType
from typing import Any, Self

import httpx

from kelpie.jobs import Job, JobEvent, JobEventList, JobList

KEY_HEADER = "X-Kelpie-Key"
PAGE_SIZE = 100


class ApiError(Exception):
    """The API answered with an error, or could not be reached."""


class KelpieClient:
    def __init__(
        self,
        api_url: str,
        api_key: str,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=api_url,
            headers={KEY_HEADER: api_key},
            timeout=timeout,
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ApiError(f"{method} {path}: {exc!r}") from exc
        if response.status_code >= 400:
            raise ApiError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    async def healthy(self) -> bool:
        try:
            response = await self._http.get("/healthz")
        except httpx.TransportError:
            return False
        return response.status_code == 200

    async def me(self) -> dict[str, Any]:
        """The caller; raises ``ApiError`` if the key is not (or no longer) valid."""
        body: dict[str, Any] = await self._request("GET", "/users/me")
        return body

    async def create_user(self, username: str) -> str:
        """Needs the admin key; returns the new user's id."""
        body = await self._request("POST", "/users", json={"username": username})
        return str(body["id"])

    async def create_token(self, user_id: str) -> str:
        """Needs the admin key."""
        body = await self._request("POST", f"/users/{user_id}/token", json={})
        return str(body["token"])

    async def submit(self, job: dict[str, Any]) -> Job:
        return Job.model_validate(await self._request("POST", "/jobs", json=job))

    async def job(self, job_id: str) -> Job:
        return Job.model_validate(await self._request("GET", f"/jobs/{job_id}"))

    async def jobs(
        self, container_group_id: str | None = None, status: str | None = None
    ) -> list[Job]:
        """Every job that matches, oldest first, across all pages."""
        params: dict[str, str | int] = {"asc": "true", "page_size": PAGE_SIZE}
        if container_group_id is not None:
            params["container_group_id"] = container_group_id
        if status is not None:
            params["status"] = status
        found: list[Job] = []
        page = 1
        while True:
            body = await self._request("GET", "/jobs", params={**params, "page": page})
            listed = JobList.model_validate(body)
            found.extend(listed.jobs)
            if len(listed.jobs) < PAGE_SIZE or len(found) >= listed.count:
                return found
            page += 1

    async def count(self, status: str, container_group_id: str | None = None) -> int:
        """How many jobs have ``status`` (one small request, whatever the number)."""
        params: dict[str, str | int] = {"status": status, "page_size": 1}
        if container_group_id is not None:
            params["container_group_id"] = container_group_id
        body = await self._request("GET", "/jobs", params=params)
        return int(body["_count"])

    async def events(self, job_id: str) -> list[JobEvent]:
        body = await self._request("GET", f"/jobs/{job_id}/events")
        return JobEventList.model_validate(body).events
