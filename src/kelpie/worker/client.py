"""The worker's side of the coordination API, over one ``httpx.AsyncClient``.

Failures that may pass (no connection, a timeout, 5xx, 408, 429) are retried with backoff;
a 409 or 404 on a job report, or ``canceled`` on a heartbeat, is ``LeaseLost``; any other 4xx
is ``ApiRejected``. Final reports (``completed``, ``failed``, ``release``) are retried until
delivered or until the lease is known to be gone: a report dropped on the floor would leave the
job to wait two heartbeat intervals, or worse, to run again after it succeeded.
"""

import asyncio
import logging
import time
from typing import Literal

import httpx

from kelpie.jobs import Job, JobStatus, WorkerReport
from kelpie.worker.backoff import Backoff
from kelpie.worker.errors import ApiError, ApiRejected, ApiUnavailable, LeaseLost

logger = logging.getLogger("kelpie.worker.api")

FinalReport = Literal["completed", "failed", "release"]
KEY_HEADER = "X-Kelpie-Key"
_RETRYABLE = frozenset({408, 425, 429})
_LEASE_GONE = frozenset({404, 409})
_ALIVE = frozenset({JobStatus.RUNNING, JobStatus.PENDING})
_REQUEST_TIMEOUT_S = 30.0
_LONG_POLL_MARGIN_S = 15.0


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return str(body)[:200]


class WorkerApi:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        machine_id: str,
        container_group_id: str,
        max_retries: int,
        backoff: Backoff | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._report = WorkerReport(machine_id=machine_id, container_group_id=container_group_id)
        self._max_retries = max_retries
        self._backoff = backoff or Backoff()
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={KEY_HEADER: api_key},
            timeout=_REQUEST_TIMEOUT_S,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        request_timeout_s: float | None = None,
        job_report: bool = False,
    ) -> httpx.Response:
        """One request; the answer sorted into success or one of our errors."""
        try:
            response = await self._http.request(
                method,
                path,
                params=params,
                json=self._report.model_dump() if method == "POST" else None,
                timeout=request_timeout_s
                if request_timeout_s is not None
                else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise ApiUnavailable(f"{method} {path}: {exc!r}") from exc
        status = response.status_code
        if status < 300:
            return response
        if status >= 500 or status in _RETRYABLE:
            raise ApiUnavailable(f"{method} {path}: {status} {_message(response)}")
        if job_report and status in _LEASE_GONE:
            raise LeaseLost(f"{method} {path}: {status} {_message(response)}")
        raise ApiRejected(status, f"{method} {path}: {_message(response)}")

    async def _retrying(
        self,
        method: str,
        path: str,
        *,
        attempts: int | None,
        params: dict[str, str | int] | None = None,
        request_timeout_s: float | None = None,
        job_report: bool = False,
    ) -> httpx.Response:
        """``_send_once`` until it succeeds; ``attempts=None`` means until it is decided."""
        attempt = 0
        while True:
            try:
                return await self._send_once(
                    method,
                    path,
                    params=params,
                    request_timeout_s=request_timeout_s,
                    job_report=job_report,
                )
            except ApiUnavailable as exc:
                if attempts is not None and attempt + 1 >= attempts:
                    raise
                delay = self._backoff.delay(attempt)
                logger.warning("API call failed (%s); retrying in %.1f s", exc, delay)
                attempt += 1
                await asyncio.sleep(delay)

    async def take_work(self, wait_s: int) -> tuple[Job | None, float]:
        """A job for this machine, or ``None``; also how long the API took to answer, so the
        caller can tell an API that honours ``wait`` from one that answers at once."""
        params: dict[str, str | int] = {
            "machine_id": self._report.machine_id,
            "container_group_id": self._report.container_group_id,
        }
        if wait_s > 0:
            params["wait"] = wait_s
        started = time.monotonic()
        response = await self._retrying(
            "GET",
            "/work",
            params=params,
            request_timeout_s=wait_s + _LONG_POLL_MARGIN_S,
            attempts=self._max_retries + 1,
        )
        elapsed = time.monotonic() - started
        try:
            jobs = response.json()
        except ValueError as exc:
            raise ApiRejected(response.status_code, "GET /work answered no JSON") from exc
        if not isinstance(jobs, list) or not jobs:
            return None, elapsed
        try:
            return Job.model_validate(jobs[0]), elapsed
        except ValueError as exc:
            raise ApiError(f"GET /work answered a job we cannot read: {exc}") from exc

    async def heartbeat(self, job_id: str, timeout_s: float) -> None:
        """One heartbeat, not retried here: the next tick is the retry.

        Raises ``LeaseLost`` if the job is no longer ours (``canceled`` or ended).
        """
        response = await self._send_once(
            "POST", f"/jobs/{job_id}/heartbeat", request_timeout_s=timeout_s, job_report=True
        )
        try:
            status = JobStatus(response.json().get("status"))
        except (ValueError, AttributeError):
            return
        if status not in _ALIVE:
            raise LeaseLost(f"heartbeat for {job_id} answered {status.value}")

    async def report(self, job_id: str, outcome: FinalReport) -> None:
        """Delivers ``outcome``; retries until the API takes it or says the lease is gone."""
        await self._retrying("POST", f"/jobs/{job_id}/{outcome}", attempts=None, job_report=True)
