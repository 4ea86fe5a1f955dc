"""A pool of worker processes, one per slot, each slot kept filled by its own supervisor task.

A slot is a place in the pool; the worker filling it is a machine. Every worker started gets
a new machine id and a folder of its own, as a replacement machine would: a job it held is
taken over by the id the events show, and a worker still shutting down never shares its
folder with its successor.
"""

import asyncio
import contextlib
import json
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from kelpie.platform.process_tree import kill_tree
from kelpie.platform.supervision import ExitReason, RestartPolicy, quick_exits, restart_delay

READY_TIMEOUT_S = 60.0
STATE_FILE = "worker-state.json"


class SlotState(StrEnum):
    RUNNING = "running"
    WAITING = "waiting"
    """Between a crashed worker's end and its replacement's start."""
    STOPPED = "stopped"


@dataclass
class WorkerProcess:
    machine_id: str
    folder: Path
    process: asyncio.subprocess.Process
    started: float = field(default_factory=time.monotonic)
    reason: ExitReason | None = None
    """Why it was told to end; ``None`` until it is (an end without a reason is a crash)."""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def ready(self) -> bool:
        """Past its start-up: its state file (``KELPIE_STATE_FILE``) says it is taking work."""
        try:
            state = json.loads((self.folder / STATE_FILE).read_text())
        except (OSError, ValueError):
            return False
        return isinstance(state, dict) and state.get("status") not in (None, "starting")


@dataclass(frozen=True)
class WorkerView:
    """One slot as the status screen shows it."""

    slot: int
    state: SlotState
    machine_id: str | None
    pid: int | None
    uptime_s: float
    restarts: int
    last_exit: str
    retiring: int
    """Predecessors still shutting down."""


@dataclass
class Slot:
    index: int
    current: WorkerProcess | None = None
    retiring: list[WorkerProcess] = field(default_factory=list)
    state: SlotState = SlotState.WAITING
    restarts: int = 0
    quick_exits: int = 0
    last_exit: str = "-"
    swapped: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a strike put a successor in ``current``."""

    def view(self) -> WorkerView:
        current = self.current
        return WorkerView(
            slot=self.index,
            state=self.state,
            machine_id=current.machine_id if current else None,
            pid=current.pid if current else None,
            uptime_s=time.monotonic() - current.started if current else 0.0,
            restarts=self.restarts,
            last_exit=self.last_exit,
            retiring=len(self.retiring),
        )


def describe_exit(returncode: int | None, reason: ExitReason | None) -> str:
    if returncode is None:
        how = "?"
    else:
        how = f"signal {-returncode}" if returncode < 0 else f"exit {returncode}"
    return f"{how} ({(reason or ExitReason.CRASH).value})"


class WorkerPool:
    def __init__(
        self,
        size: int,
        root: Path,
        logs: Path,
        environment: Mapping[str, str],
        policy: RestartPolicy,
        grace_period_s: float,
    ) -> None:
        self._slots = [Slot(index) for index in range(1, size + 1)]
        self._root = root
        self._logs = logs
        self._environment = dict(environment)
        self._policy = policy
        self._grace_period_s = grace_period_s
        self._stopping = False
        self._stopped = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.ended: dict[str, datetime] = {}
        """Machine id -> when its worker process was seen gone (UTC), for every worker."""

    @property
    def slots(self) -> list[Slot]:
        return self._slots

    def views(self) -> list[WorkerView]:
        return [slot.view() for slot in self._slots]

    def live_machines(self) -> dict[str, Slot]:
        """Machine id -> slot, for workers running and not told to end."""
        return {
            slot.current.machine_id: slot
            for slot in self._slots
            if slot.current is not None and slot.current.reason is None
        }

    def start(self) -> None:
        for slot in self._slots:
            self._background(self._keep_filled(slot))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _spawn(self, slot: Slot) -> WorkerProcess:
        machine_id = f"w{slot.index}-{secrets.token_hex(3)}"
        folder = self._root / machine_id
        folder.mkdir(parents=True, exist_ok=True)
        self._logs.mkdir(parents=True, exist_ok=True)
        with (self._logs / f"worker-{slot.index}.log").open("ab") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} machine {machine_id} starts\n".encode())
            log.flush()
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "kelpie", "worker",
                env={
                    **self._environment,
                    "KELPIE_MACHINE_ID": machine_id,
                    "KELPIE_WORKDIR": str(folder),
                    "KELPIE_STATE_FILE": str(folder / STATE_FILE),
                },
                cwd=folder,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return WorkerProcess(machine_id, folder, process)

    async def _keep_filled(self, slot: Slot) -> None:
        delay = 0.0
        while True:
            if slot.current is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), delay)
                if self._stopping:
                    break
                slot.current = await self._spawn(slot)
                if self._stopping:  # stop() began while it was starting and did not see it
                    slot.current.reason = ExitReason.STOP
                    slot.current.process.send_signal(signal.SIGTERM)
            worker = slot.current
            slot.state = SlotState.RUNNING
            exited = asyncio.create_task(worker.process.wait())
            swapped = asyncio.create_task(slot.swapped.wait())
            await asyncio.wait({exited, swapped}, return_when=asyncio.FIRST_COMPLETED)
            swapped.cancel()
            slot.swapped.clear()
            if slot.current is not worker:
                exited.cancel()
                continue
            await exited
            self._record_exit(slot, worker)
            slot.current, slot.state = None, SlotState.WAITING
            reason = ExitReason.STOP if self._stopping else worker.reason or ExitReason.CRASH
            next_delay = restart_delay(reason, slot.quick_exits, self._policy)
            if next_delay is None:
                break
            delay = next_delay
            slot.restarts += 1
        slot.state = SlotState.STOPPED

    def _record_exit(self, slot: Slot, worker: WorkerProcess) -> None:
        """Notes how it ended and drops its folder: a replacement never reuses a machine's."""
        self.ended[worker.machine_id] = datetime.now(UTC)
        shutil.rmtree(worker.folder, ignore_errors=True)
        slot.last_exit = describe_exit(worker.process.returncode, worker.reason)
        if worker.reason is None:
            uptime = time.monotonic() - worker.started
            slot.quick_exits = quick_exits(slot.quick_exits, uptime, self._policy)

    async def _retire(self, slot: Slot, worker: WorkerProcess) -> None:
        await worker.process.wait()
        slot.retiring.remove(worker)
        self._record_exit(slot, worker)

    async def _until_ready(self, worker: WorkerProcess) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while worker.alive and not self._stopping and time.monotonic() < deadline:
            if worker.ready():
                return True
            await asyncio.sleep(0.05)
        return False

    async def strike(self, slot: Slot, machine_id: str, hard: bool) -> WorkerProcess | None:
        """Interrupts the slot's worker if it is still ``machine_id``; returns it if struck.

        Its successor is started first and struck only once it is taking work, as when a
        cloud has a replacement machine ready: the time lost is then the interruption's own
        (the lease running out, or the release), not a machine's boot. A hard strike is
        SIGKILL to the worker's whole tree (the machine vanished); a graceful one is SIGTERM
        (the worker forwards it, the job saves its state, the worker releases the job).
        """
        worker = slot.current
        if worker is None or worker.machine_id != machine_id or worker.reason is not None:
            return None
        worker.reason = ExitReason.KILLED if hard else ExitReason.TERMINATED
        successor = await self._spawn(slot)
        if not await self._until_ready(successor) or slot.current is not worker or not worker.alive:
            kill_tree(successor.pid)
            await successor.process.wait()
            shutil.rmtree(successor.folder, ignore_errors=True)
            worker.reason = None
            return None
        if hard:
            kill_tree(worker.pid)
        else:
            worker.process.send_signal(signal.SIGTERM)
        slot.retiring.append(worker)
        slot.current = successor
        slot.restarts += 1
        slot.swapped.set()
        self._background(self._retire(slot, worker))
        return worker

    async def stop(self) -> None:
        """SIGTERM to every worker, SIGKILL to the trees of those still there after the grace."""
        self._stopping = True
        self._stopped.set()
        workers = [
            worker
            for slot in self._slots
            for worker in [*([slot.current] if slot.current else []), *slot.retiring]
        ]
        for worker in workers:
            if worker.alive:
                worker.reason = worker.reason or ExitReason.STOP
                worker.process.send_signal(signal.SIGTERM)
        waits = asyncio.gather(*(worker.process.wait() for worker in workers))
        try:
            await asyncio.wait_for(waits, self._grace_period_s + 10.0)
        except TimeoutError:
            for worker in workers:
                if worker.alive:
                    kill_tree(worker.pid)
            await asyncio.gather(*(worker.process.wait() for worker in workers))
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
