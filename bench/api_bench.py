"""API throughput: full job cycles per second and request latency, on SQLite and PostgreSQL.

For each backend one run starts ``kelpie server`` on a free loopback port over a fresh
database, creates a user through the admin API, and measures three phases:

    busy      many simulated workers loop through full cycles for a fixed time:
              submit (POST /jobs), take (GET /work), heartbeat, complete
    idle      the same, while many more workers hold idle long polls (GET /work?wait=30)
              on another container group of the same user
    herd      the same, with the idle long polls on the busy workers' own group: each one
              that is woken by a submit and wins a job runs one cycle and polls again

A bare uvicorn "hello" endpoint, driven by the same load generator in the same run, is the
upper bound of this machine: the load generator and the server share its cores, so the
absolute figures say as much about the machine as about the API; compare the ratios.
Nothing here is a test: it prints figures, it asserts none, and it stops by itself.

    python bench/api_bench.py [--backends sqlite,postgres] [--workers 32] [--seconds 10]
                              [--idle 1000] [--server-workers 1]
"""

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support
from tests.support.processes import free_port, wait_until_up

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
KEY_HEADER = "X-Kelpie-Key"
ENDPOINTS = ("submit", "take", "heartbeat", "complete")
IDLE_WAIT = 30
POLLS_PER_CLIENT = 20
PHASES = ("busy", "idle", "herd")


def job_body(group: str) -> dict[str, Any]:
    return {
        "command": "python",
        "arguments": ["/app/main.py"],
        "environment": {"STEP": "1"},
        "max_failures": 3,
        "heartbeat_interval": 30,
        "container_group_id": group,
        "sync": {
            "before": [
                {
                    "bucket": "b",
                    "prefix": "in/",
                    "local_path": "/app/in/",
                    "direction": "download",
                }
            ],
            "after": [],
        },
    }


@dataclass
class Measured:
    seconds: float = 0.0
    cycles: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.cycles / self.seconds if self.seconds else 0.0

    def percentile(self, endpoint: str, q: int) -> float:
        values = self.latencies.get(endpoint, [])
        if len(values) < 2:
            return float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path, health: str) -> Iterator[None]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            args,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(health, process)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def _postgres(base_url: str, statement: str) -> None:
    plain = base_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database(backend: str, folder: Path, postgres_url: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'kelpie.db'}"
        return
    name = f"kelpie_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_postgres(postgres_url, f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_postgres(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def new_token(base: str, admin_key: str) -> str:
    with httpx.Client(base_url=base, headers={KEY_HEADER: admin_key}, timeout=30) as admin:
        user = admin.post("/users", json={"username": f"bench-{secrets.token_hex(4)}"})
        user.raise_for_status()
        token = admin.post(f"/users/{user.json()['id']}/token", json={})
        token.raise_for_status()
        return str(token.json()["token"])


class Timer:
    """Records each request's latency under its endpoint's name."""

    def __init__(self, measured: Measured) -> None:
        self._measured = measured

    async def request(
        self, client: httpx.AsyncClient, name: str, method: str, url: str, **kwargs: Any
    ) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError:
            self._measured.errors += 1
            return None
        self._measured.latencies[name].append(time.perf_counter() - start)
        if response.status_code >= 400:
            self._measured.errors += 1
            return None
        return response


async def one_cycle(client: httpx.AsyncClient, timer: Timer, group: str, machine: str) -> bool:
    """Submit one job, take one (the oldest, not necessarily ours), heartbeat it, complete it."""
    if await timer.request(client, "submit", "POST", "/jobs", json=job_body(group)) is None:
        return False
    params = {"machine_id": machine, "container_group_id": group}
    taken = await timer.request(client, "take", "GET", "/work", params=params)
    jobs = [] if taken is None else taken.json()
    return bool(jobs) and await finish(client, timer, jobs[0]["id"], group, machine)


async def finish(
    client: httpx.AsyncClient, timer: Timer, job_id: str, group: str, machine: str
) -> bool:
    report = {"machine_id": machine, "container_group_id": group}
    beat = f"/jobs/{job_id}/heartbeat"
    if await timer.request(client, "heartbeat", "POST", beat, json=report) is None:
        return False
    done = f"/jobs/{job_id}/completed"
    return await timer.request(client, "complete", "POST", done, json=report) is not None


async def busy_worker(
    client: httpx.AsyncClient, measured: Measured, group: str, until: float
) -> None:
    timer = Timer(measured)
    machine = f"busy-{secrets.token_hex(4)}"
    while time.perf_counter() < until:
        if await one_cycle(client, timer, group, machine):
            measured.cycles += 1


async def idle_worker(
    client: httpx.AsyncClient,
    group: str,
    connected: asyncio.Semaphore,
    stop: asyncio.Event,
    herd: Measured,
) -> None:
    """Long-polls until ``stop``; a job it wins is finished (and counted) like a busy one's."""
    timer = Timer(Measured())  # its own latencies are the wait, not a measure
    machine = f"idle-{secrets.token_hex(4)}"
    params = {"machine_id": machine, "container_group_id": group, "wait": 0}
    for _ in range(60):  # until its connection is up
        if await timer.request(client, "poll", "GET", "/work", params=params) is not None:
            break
        await asyncio.sleep(0.5)
    connected.release()
    params["wait"] = IDLE_WAIT
    while not stop.is_set():
        taken = await timer.request(client, "poll", "GET", "/work", params=params)
        jobs = [] if taken is None else taken.json()
        if jobs and await finish(client, Timer(herd), jobs[0]["id"], group, machine):
            herd.cycles += 1
        elif taken is None:
            await asyncio.sleep(0.5)


async def settle(client: httpx.AsyncClient, quick: float = 0.1, patience: float = 30.0) -> None:
    """Waits until the server answers quickly again: every long poll has made its first claim
    and is waiting."""
    await asyncio.sleep(1.0)
    deadline = time.perf_counter() + patience
    in_a_row = 0
    while in_a_row < 5 and time.perf_counter() < deadline:
        start = time.perf_counter()
        await client.get("/healthz")
        in_a_row = in_a_row + 1 if time.perf_counter() - start < quick else 0
        await asyncio.sleep(0.1)


async def measure_phase(
    base: str, token: str, workers: int, seconds: float, idle: int, idle_group: str | None
) -> Measured:
    busy_group = f"busy-{uuid.uuid4().hex[:8]}"
    group = busy_group if idle_group == "same" else idle_group
    headers = {KEY_HEADER: token}
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    measured = Measured()
    stop = asyncio.Event()
    async with (
        httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client,
        AsyncExitStack() as stack,
    ):
        pollers = []
        if group is not None and idle:
            # small pools: httpx scans every connection of a pool on each request, so one pool
            # of 1,000 connections made the load generator, not the server, the bottleneck
            idle_limits = httpx.Limits(max_connections=POLLS_PER_CLIENT)
            idle_clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=base,
                        headers=headers,
                        limits=idle_limits,
                        timeout=httpx.Timeout(IDLE_WAIT + 30),
                    )
                )
                for _ in range(0, idle, POLLS_PER_CLIENT)
            ]
            connected = asyncio.Semaphore(0)
            pollers = [
                asyncio.create_task(
                    idle_worker(
                        idle_clients[n // POLLS_PER_CLIENT], group, connected, stop, measured
                    )
                )
                for n in range(idle)
            ]
            for _ in range(idle):
                await connected.acquire()
            await settle(client)
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(
            *(busy_worker(client, measured, busy_group, until) for _ in range(workers))
        )
        measured.seconds = time.perf_counter() - start
        stop.set()
        for task in pollers:
            task.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)
    return measured


def bench_backend(backend: str, args: argparse.Namespace, folder: Path) -> dict[str, Measured]:
    port = free_port()
    admin_key = secrets.token_urlsafe(24)
    base = f"http://127.0.0.1:{port}"
    results = {}
    with fresh_database(backend, folder, args.postgres_url) as database_url:
        command = [sys.executable, "-m", "kelpie", "server", "--host", "127.0.0.1"]
        command += ["--port", str(port)]
        if args.server_workers > 1:
            command += ["--workers", str(args.server_workers)]
        env = {
            "KELPIE_DATABASE_URL": database_url,
            "KELPIE_ADMIN_KEY": admin_key,
            "KELPIE_LOG_LEVEL": "warning",
        }
        with running(command, env, folder / f"server-{backend}.log", base + "/healthz"):
            token = new_token(base, admin_key)
            idle_groups = {"busy": None, "idle": f"idle-{uuid.uuid4().hex[:8]}", "herd": "same"}
            for phase in args.phases:
                results[phase] = asyncio.run(
                    measure_phase(
                        base, token, args.workers, args.seconds, args.idle, idle_groups[phase]
                    )
                )
                print(f"  {backend:8} {phase:5} {results[phase].rate:7.1f} cycles/s", flush=True)
    return results


HELLO_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"hello": "world"}'})
"""


async def hello_phase(base: str, workers: int, seconds: float) -> Measured:
    """Four requests per "cycle", as in a job cycle, to an endpoint that does nothing."""
    measured = Measured()
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        timer = Timer(measured)

        async def worker(until: float) -> None:
            while time.perf_counter() < until:
                for name in ENDPOINTS:
                    method = "GET" if name == "take" else "POST"
                    await timer.request(client, name, method, "/", json={"x": 1})
                measured.cycles += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(start + seconds) for _ in range(workers)))
        measured.seconds = time.perf_counter() - start
    return measured


def bench_hello(args: argparse.Namespace, folder: Path) -> Measured:
    app_file = folder / "hello_app.py"
    app_file.write_text(HELLO_APP)
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "hello_app:app", "--port", str(port)]
    command += ["--host", "127.0.0.1", "--log-level", "warning", "--app-dir", str(folder)]
    base = f"http://127.0.0.1:{port}"
    with running(command, {}, folder / "hello.log", base + "/"):
        measured = asyncio.run(hello_phase(base, args.workers, args.seconds))
    print(f"  hello          {measured.rate:7.1f} cycles/s", flush=True)
    return measured


def report(results: dict[str, dict[str, Measured]], hello: Measured | None) -> str:
    lines = [
        "| backend | phase | cycles/s | errors | "
        + " | ".join(f"{name} p50 / p99 ms" for name in ENDPOINTS)
        + " |",
        "| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in ENDPOINTS) + " |",
    ]
    rows = [
        (backend, phase, m) for backend, phases in results.items() for phase, m in phases.items()
    ]
    if hello is not None:
        rows.append(("uvicorn hello", "busy", hello))
    for backend, phase, m in rows:
        cells = " | ".join(
            f"{m.percentile(name, 50):.1f} / {m.percentile(name, 99):.1f}" for name in ENDPOINTS
        )
        lines.append(f"| {backend} | {phase} | {m.rate:.1f} | {m.errors} | {cells} |")
    lines += ["", "Ratios (same run, same machine):", ""]
    sqlite, postgres = results.get("sqlite", {}), results.get("postgres", {})
    for phase in PHASES:
        if phase in sqlite and phase in postgres and sqlite[phase].rate:
            ratio = postgres[phase].rate / sqlite[phase].rate
            lines.append(f"- {phase}: PostgreSQL / SQLite cycles = {ratio:.2f}")
    for backend, phases in results.items():
        busy = phases.get("busy")
        if busy is None or not busy.rate:
            continue
        for phase in ("idle", "herd"):
            if phase in phases:
                ratio = phases[phase].rate / busy.rate
                lines.append(f"- {backend}: cycles with {phase} pollers / without = {ratio:.2f}")
        if hello is not None and hello.rate:
            lines.append(
                f"- {backend}: busy cycles / uvicorn hello cycles = {busy.rate / hello.rate:.2f}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--workers", type=int, default=32, help="busy simulated workers")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--idle", type=int, default=1000, help="idle long-polling workers")
    parser.add_argument("--server-workers", type=int, default=1, help="kelpie server --workers")
    parser.add_argument("--no-hello", action="store_true", help="skip the uvicorn upper bound")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("KELPIE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="an existing database beside which a fresh one is created and dropped",
    )
    args = parser.parse_args()
    args.phases = [phase for phase in args.phases.split(",") if phase]
    results: dict[str, dict[str, Measured]] = {}
    with tempfile.TemporaryDirectory(prefix="kelpie-api-bench-") as tmp:
        folder = Path(tmp)
        hello = None if args.no_hello else bench_hello(args, folder)
        for backend in args.backends.split(","):
            results[backend] = bench_backend(backend, args, folder)
    print()
    print(
        f"{args.workers} busy workers, {args.seconds:g} s per phase, {args.idle} idle long polls, "
        f"{args.server_workers} server process(es), {os.cpu_count()} CPUs"
    )
    print(report(results, hello))


if __name__ == "__main__":
    main()
