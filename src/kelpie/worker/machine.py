"""Asking the platform about this machine: SaladCloud's instance metadata service, or nothing.

On SaladCloud the worker tells the platform how costly this replica is to delete (so scaling
down removes idle replicas first, and never one that is uploading a job's final outputs) and
asks it for a fresh node when this one keeps failing. Elsewhere there is nobody to ask; the
agent then exits with a code that tells the orchestrator what it wanted.

Every call here is best effort: the metadata service being away must never stop a job.
"""

import logging
from typing import Protocol

import httpx

logger = logging.getLogger("kelpie.worker.machine")

IDLE_COST = 0
UPLOADING_COST = 999_999_999
"""While final outputs upload, losing this replica would lose finished work."""
_METADATA_TIMEOUT_S = 3.0


def running_cost(heartbeats: int) -> int:
    """Grows with the work a replica would lose if it were deleted now."""
    return max(1, min(heartbeats, UPLOADING_COST - 1))


class MachineControl(Protocol):
    async def set_deletion_cost(self, cost: int) -> None: ...

    async def reallocate(self, reason: str) -> bool:
        """True if the platform will move this replica to another machine."""
        ...

    async def recreate(self) -> bool:
        """True if the platform will start this replica afresh on the same machine."""
        ...

    async def aclose(self) -> None: ...


class NoPlatform:
    """Not on SaladCloud (or its metadata service does not answer)."""

    async def set_deletion_cost(self, cost: int) -> None:
        return None

    async def reallocate(self, reason: str) -> bool:
        return False

    async def recreate(self) -> bool:
        return False

    async def aclose(self) -> None:
        return None


class SaladMetadata:
    """SaladCloud's IMDS: every request carries ``Metadata: true`` and bypasses any proxy."""

    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Metadata": "true"},
            timeout=_METADATA_TIMEOUT_S,
            trust_env=False,
            transport=transport,
        )
        self._cost: int | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def answers(self) -> bool:
        try:
            response = await self._http.get("/v1/status")
        except httpx.HTTPError:
            return False
        return response.status_code < 500

    async def _call(self, method: str, path: str, body: dict[str, object] | None) -> bool:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            logger.warning("metadata service: %s %s failed: %r", method, path, exc)
            return False
        if response.status_code >= 300:
            logger.warning(
                "metadata service: %s %s answered %d", method, path, response.status_code
            )
            return False
        return True

    async def set_deletion_cost(self, cost: int) -> None:
        if cost != self._cost and await self._call(
            "PUT", "/v1/deletion-cost", {"deletion_cost": cost}
        ):
            self._cost = cost

    async def reallocate(self, reason: str) -> bool:
        logger.info("asking SaladCloud for another machine: %s", reason)
        return await self._call("POST", "/v1/reallocate", {"reason": reason})

    async def recreate(self) -> bool:
        logger.info("asking SaladCloud to recreate this container")
        return await self._call("POST", "/v1/recreate", None)


async def machine_control(on_saladcloud: bool, metadata_url: str) -> MachineControl:
    """SaladCloud's metadata service if this looks like SaladCloud and it answers."""
    if not on_saladcloud:
        return NoPlatform()
    metadata = SaladMetadata(metadata_url)
    if await metadata.answers():
        logger.info("SaladCloud metadata service found at %s", metadata_url)
        return metadata
    logger.warning("SALAD_MACHINE_ID is set but %s does not answer", metadata_url)
    await metadata.aclose()
    return NoPlatform()
