"""The seed's workload: sum the integers ``start..end``, one per step, surviving interruptions.

It stands for any long job on an interruptible machine (a GPU step per integer): it checkpoints
every ``STATE_SAVING_INTERVAL`` seconds into ``data/state/`` (which the worker syncs to
storage while it runs), resumes from that checkpoint on whatever machine takes the job next,
and saves a last checkpoint when it is asked to stop (SIGTERM or SIGINT).

Folders are relative to the working directory (the worker runs the command in its own
working folder, so several workers share one machine):

    data/input/input.txt       start and end, one integer per line
    data/state/state.json      {"step": integers summed so far, "partial_sum": their sum}
    data/state/progress.log    one line per event: UTC time, machine id, what happened
    data/output/sum.txt        the sum, when done
    data/output/error.txt      why there is no sum (missing or bad input)

Bad input ends the job with exit 0 and ``error.txt``: another attempt on another machine
cannot fix it, and a non-zero exit would be retried ``max_failures`` times for nothing.

The module uses only the standard library, so it can be copied alone into any image.
"""

import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

DATA = Path("data")
INPUT_FILE = DATA / "input" / "input.txt"
STATE_FILE = DATA / "state" / "state.json"
LOG_FILE = DATA / "state" / "progress.log"
OUTPUT_FILE = DATA / "output" / "sum.txt"
ERROR_FILE = DATA / "output" / "error.txt"

EXIT_STOPPED = 128 + signal.SIGTERM


class BadInput(Exception):
    """The input is missing or unreadable; retrying elsewhere would not help."""


@dataclass(frozen=True)
class Settings:
    step_running_time: float
    state_saving_interval: float
    machine_id: str

    @classmethod
    def from_env(cls, environ: dict[str, str]) -> "Settings":
        return cls(
            step_running_time=float(environ.get("STEP_RUNNING_TIME", "10.0")),
            state_saving_interval=float(environ.get("STATE_SAVING_INTERVAL", "60.0")),
            machine_id=environ.get("KELPIE_MACHINE_ID")
            or environ.get("SALAD_MACHINE_ID")
            or socket.gethostname(),
        )


@dataclass
class Progress:
    """``step`` integers from ``start`` on are summed into ``partial_sum``."""

    step: int = 0
    partial_sum: int = 0


class StopRequest:
    """Set by SIGTERM or SIGINT; the step loop looks at it, so no handler runs mid-write."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signum

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self)
        signal.signal(signal.SIGINT, self)


def now_utc() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def log(settings: Settings, message: str) -> None:
    """Appends one line to the progress log (synced with the state) and echoes it."""
    line = f"{now_utc()} {settings.machine_id} {message}"
    LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOG_FILE.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
    print(line, flush=True)


def write_atomically(path: Path, text: str) -> None:
    """The temporary file sits outside the synced folder, so the sync sees one finished file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = DATA / f".{path.name}.{os.getpid()}.tmp"
    with temporary.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def read_input() -> tuple[int, int]:
    try:
        lines = INPUT_FILE.read_text(encoding="utf-8").split()
    except OSError as exc:
        raise BadInput(f"cannot read {INPUT_FILE}: {exc.strerror}") from exc
    if len(lines) != 2:
        raise BadInput(f"{INPUT_FILE} must hold start and end on two lines, got {len(lines)}")
    try:
        start, end = int(lines[0]), int(lines[1])
    except ValueError as exc:
        raise BadInput(f"{INPUT_FILE}: start and end must be integers ({exc})") from exc
    if start > end:
        raise BadInput(f"start {start} is greater than end {end}")
    return start, end


def read_state() -> Progress | None:
    if not STATE_FILE.exists():
        return None
    saved = json.loads(STATE_FILE.read_text(encoding="utf-8"))
    return Progress(step=int(saved["step"]), partial_sum=int(saved["partial_sum"]))


def save_state(settings: Settings, progress: Progress, steps: int) -> None:
    saved = {"step": progress.step, "partial_sum": progress.partial_sum}
    write_atomically(STATE_FILE, json.dumps(saved))
    percent = 100.0 * progress.step / steps
    log(settings, f"step {progress.step}/{steps} {percent:.1f}%")


def busy_step(seconds: float, stop: StopRequest) -> bool:
    """Burns CPU for ``seconds`` like a real step would; False if asked to stop midway."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if stop.signal is not None:
            return False
        sum(range(1000))
    return stop.signal is None


def run(settings: Settings, stop: StopRequest) -> int:
    try:
        start, end = read_input()
    except BadInput as exc:
        log(settings, f"bad input: {exc}")
        write_atomically(ERROR_FILE, f"{exc}\n")
        return 0
    steps = end - start + 1
    progress = read_state()
    if progress is None:
        progress = Progress()
        log(settings, f"started on {settings.machine_id}: sum of {start}..{end}")
    else:
        log(settings, f"resumed on {settings.machine_id} at step {progress.step}")
    last_save = time.monotonic()
    while progress.step < steps:
        if not busy_step(settings.step_running_time, stop):
            save_state(settings, progress, steps)
            log(settings, f"stopped by signal {stop.signal} at step {progress.step}")
            return EXIT_STOPPED
        progress.partial_sum += start + progress.step
        progress.step += 1
        if time.monotonic() - last_save >= settings.state_saving_interval:
            save_state(settings, progress, steps)
            last_save = time.monotonic()
    save_state(settings, progress, steps)
    write_atomically(OUTPUT_FILE, f"{progress.partial_sum}\n")
    log(settings, f"done: sum of {start}..{end} is {progress.partial_sum}")
    return 0


def main() -> int:
    stop = StopRequest()
    stop.install()
    return run(Settings.from_env(dict(os.environ)), stop)


if __name__ == "__main__":
    sys.exit(main())
