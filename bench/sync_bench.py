"""File sync throughput: our sync engine against ``aws s3 sync`` and ``rclone copy``.

One run moves the same two data sets through the same S3 server with each tool, upload then
download, every transfer timed as a whole process (start-up included, as a user would see it):

    (a) 2,000 files of 16 KiB        (b) 4 files of 256 MiB

By default it starts moto's S3 server on a free loopback port; ``--endpoint`` points it at
another S3-compatible store instead (credentials from the usual AWS variables). Peers run
with their default settings. Nothing here is a test: it prints figures, it asserts none.

    python bench/sync_bench.py [--endpoint URL] [--only small|large] [--keep-going]
"""

import argparse
import asyncio
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support
from tests.support.processes import free_port

KIB = 1024
MIB = 1024 * KIB
DATA_SETS = {"small": (2000, 16 * KIB), "large": (4, 256 * MIB)}
TOOLS = ("kelpie", "aws", "rclone")
BUCKET = "kelpie-bench"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class Result:
    tool: str
    data_set: str
    direction: str
    files: int
    size: int
    seconds: float
    cpu_seconds: float

    @property
    def mb_per_s(self) -> float:
        return self.size / 1e6 / self.seconds

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def make_data_set(root: Path, count: int, size: int) -> None:
    """Random (incompressible) files, spread over a few folders as real outputs are."""
    for index in range(count):
        path = root / f"part-{index % 10}" / f"file-{index:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            left = size
            while left:
                chunk = min(left, 16 * MIB)
                out.write(os.urandom(chunk))
                left -= chunk


def tree_summary(root: Path) -> tuple[int, int]:
    files = [path for path in root.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def tool_command(tool: str, direction: str, local: Path, prefix: str, endpoint: str) -> list[str]:
    remote_aws = f"s3://{BUCKET}/{prefix}"
    remote_rclone = f"bench:{BUCKET}/{prefix}"
    if tool == "kelpie":
        return [sys.executable, __file__, "_kelpie", direction, str(local), prefix]
    if tool == "aws":
        aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or "aws"
        source, target = (
            (str(local), remote_aws) if direction == "upload" else (remote_aws, str(local))
        )
        return [aws, "s3", "sync", "--only-show-errors", "--endpoint-url", endpoint, source, target]
    source, target = (
        (str(local), remote_rclone) if direction == "upload" else (remote_rclone, str(local))
    )
    return ["rclone", "copy", source, target]


def tool_env(endpoint: str) -> dict[str, str]:
    inherited = dict(os.environ)
    if endpoint.startswith("http://"):
        inherited.pop("AWS_CA_BUNDLE", None)  # rclone refuses a CA bundle on a plain-HTTP endpoint
    return {
        **inherited,
        **CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "RCLONE_CONFIG_BENCH_TYPE": "s3",
        "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
        "RCLONE_CONFIG_BENCH_ENDPOINT": endpoint,
        "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "RCLONE_CONFIG_BENCH_REGION": CREDENTIALS["AWS_REGION"],
        "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
    }


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock seconds of the whole process, and the CPU seconds it used (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=CREDENTIALS["AWS_REGION"],
    )


def clear_prefix(endpoint: str, prefix: str) -> None:
    """Frees the server's memory between runs (moto keeps objects in memory)."""
    s3 = s3_client(endpoint)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})


def run_kelpie(direction: str, local: Path, prefix: str) -> None:
    """The ``_kelpie`` sub-command: one transfer with our sync engine, as the worker runs it."""
    from kelpie.jobs.models import SyncConfig
    from kelpie.storage import storage_from_env
    from kelpie.worker.sync import SyncSettings, download_all, upload_all

    logging.basicConfig(level=logging.WARNING)  # retries and failures show; progress does not
    storage = storage_from_env(os.environ)
    config = SyncConfig(bucket=BUCKET, prefix=prefix, local_path=str(local), direction=direction)
    transfer = upload_all if direction == "upload" else download_all
    try:
        asyncio.run(
            transfer(storage, [config], local, False, settings=SyncSettings.from_env(os.environ))
        )
    finally:
        storage.close()


def measure(endpoint: str, work: Path, only: list[str]) -> list[Result]:
    s3_client(endpoint).create_bucket(Bucket=BUCKET)
    env = tool_env(endpoint)
    results = []
    for name in only:
        count, size = DATA_SETS[name]
        source = work / f"{name}-source"
        print(f"making {name} data set: {count} files of {size // KIB} KiB", flush=True)
        make_data_set(source, count, size)
        files, total = tree_summary(source)
        for tool in TOOLS:
            prefix = f"{tool}/{name}/"
            landing = work / f"{name}-{tool}"
            for direction, local in (("upload", source), ("download", landing)):
                seconds, cpu = timed(tool_command(tool, direction, local, prefix, endpoint), env)
                results.append(Result(tool, name, direction, files, total, seconds, cpu))
                print(f"  {tool:7s} {direction:8s} {seconds:7.2f} s, {cpu:6.2f} s CPU", flush=True)
            if tree_summary(landing) != (files, total):
                raise RuntimeError(f"{tool} did not bring back the whole {name} data set")
            shutil.rmtree(landing)
            clear_prefix(endpoint, prefix)
        shutil.rmtree(source)
    return results


def report(results: list[Result]) -> str:
    lines = [
        "| data set | direction | tool | seconds | MB/s | files/s | client CPU s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    ratios = []
    for result in results:
        lines.append(
            f"| {result.data_set} | {result.direction} | {result.tool} | {result.seconds:.2f} "
            f"| {result.mb_per_s:.1f} | {result.files_per_s:.0f} | {result.cpu_seconds:.1f} |"
        )
    for name in dict.fromkeys(result.data_set for result in results):
        for direction in ("upload", "download"):
            same = [r for r in results if r.data_set == name and r.direction == direction]
            ours = next(r for r in same if r.tool == "kelpie")
            best = max((r for r in same if r.tool != "kelpie"), key=lambda r: r.mb_per_s)
            ratios.append(
                f"- {name} {direction}: kelpie {ours.mb_per_s:.1f} MB/s, best peer {best.tool} "
                f"{best.mb_per_s:.1f} MB/s, ratio {ours.mb_per_s / best.mb_per_s:.2f}"
            )
    return "\n".join([*lines, "", *ratios])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="an S3 endpoint to use instead of starting moto")
    parser.add_argument("--only", choices=sorted(DATA_SETS), action="append")
    arguments = parser.parse_args()
    only = arguments.only or list(DATA_SETS)
    with tempfile.TemporaryDirectory(prefix="kelpie-bench-") as folder:
        work = Path(folder)
        if arguments.endpoint:
            results = measure(arguments.endpoint, work, only)
        else:
            with moto_server(work / "moto.log") as endpoint:
                results = measure(endpoint, work, only)
    print()
    print(report(results))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "_kelpie":
        run_kelpie(sys.argv[2], Path(sys.argv[3]), sys.argv[4])
    else:
        main()
