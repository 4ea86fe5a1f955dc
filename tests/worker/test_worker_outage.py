"""The API stopped for 20 s while a job runs, then started again on the same port and database."""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from subprocess import Popen

import httpx
import pytest

from tests.support import databases, processes
from tests.support.servers import S3Server, User
from tests.worker.harness import Harness, pid_alive, wait_for


@pytest.fixture
def restartable_api(tmp_path: Path) -> Iterator["RestartableApi"]:
    api = RestartableApi(tmp_path / "api")
    try:
        yield api
    finally:
        api.stop()


class RestartableApi:
    """``kelpie server`` that can be stopped and started again on the same port and database."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.folder = folder
        self.port = processes.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "KELPIE_DATABASE_URL": databases.sqlite_url(folder),
            "KELPIE_ADMIN_KEY": "admin-" + os.urandom(8).hex(),
        }
        self.process: Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        command = processes.kelpie_command(
            "server", "--host", "127.0.0.1", "--port", str(self.port)
        )
        self.process = processes.start(command, self.env, self.folder / "api.log", cwd=self.folder)
        processes.wait_until_up(self.url + "/healthz", self.process)

    def stop(self) -> None:
        if self.process is not None:
            processes.stop(self.process)
            self.process = None

    def new_user(self) -> User:
        headers = {"X-Kelpie-Key": self.env["KELPIE_ADMIN_KEY"]}
        with httpx.Client(base_url=self.url, headers=headers) as admin:
            user = admin.post("/users", json={"username": "outage"}).json()
            token = admin.post(f"/users/{user['id']}/token", json={}).json()["token"]
        return User(user["id"], "outage", token)


def test_the_api_down_for_20_s_during_a_job_and_the_job_still_completes(
    restartable_api: RestartableApi, s3: S3Server, tmp_path: Path
) -> None:
    harness = Harness(restartable_api.url, restartable_api.new_user(), s3, tmp_path)
    try:
        job_id = harness.stepper_job("o", steps=100, pause=0.25, heartbeat_interval=2)
        worker = harness.start_worker("w1")
        command = wait_for(worker.command_pid, 30, "the command to start")
        wait_for(lambda: harness.step("o") >= 2, 30, "the job to run")
        restartable_api.stop()
        time.sleep(20)
        assert pid_alive(command), worker.output()
        restartable_api.start()
        harness.wait_status(job_id, "completed", timeout=60)
        assert "heartbeat failed" in worker.output()
        kinds = [event["kind"] for event in harness.events(job_id)]
        assert kinds == ["submitted", "taken", "completed"], kinds
    finally:
        harness.close()
