from pathlib import Path

import pytest

from kelpie.worker.errors import SettingsError
from kelpie.worker.settings import WorkerSettings, default_machine_id

BASE = {"KELPIE_API_KEY": "key", "KELPIE_CONTAINER_GROUP_ID": "group"}


def settings(tmp_path: Path, **env: str) -> WorkerSettings:
    return WorkerSettings.from_env({**BASE, "KELPIE_WORKDIR": str(tmp_path), **env})


def test_defaults(tmp_path: Path) -> None:
    read = settings(tmp_path)
    assert read.api_url == "http://127.0.0.1:8000"
    assert read.state_file == tmp_path / ".kelpie" / "state.json"
    assert read.machine_id == default_machine_id(tmp_path)
    assert (read.max_time_with_no_work_s, read.max_job_failures, read.max_retries) == (0, 5, 3)
    assert (read.grace_period_s, read.poll_interval_s, read.long_poll_s) == (10, 10, 30)
    assert read.metadata_url == "http://169.254.169.254"
    assert not read.on_saladcloud
    assert not read.recreate_between_jobs


def test_saladcloud_names_win_over_the_neutral_aliases(tmp_path: Path) -> None:
    read = settings(
        tmp_path,
        SALAD_MACHINE_ID="salad-m",
        KELPIE_MACHINE_ID="neutral-m",
        SALAD_CONTAINER_GROUP_ID="salad-g",
    )
    assert (read.machine_id, read.container_group_id, read.on_saladcloud) == (
        "salad-m",
        "salad-g",
        True,
    )


def test_values_are_parsed(tmp_path: Path) -> None:
    read = settings(
        tmp_path,
        KELPIE_API_URL="https://queue.example/",
        MAX_TIME_WITH_NO_WORK_S="90.5",
        MAX_JOB_FAILURES="2",
        KELPIE_RECREATE_BETWEEN_JOBS="True",
        KELPIE_LOG_LEVEL="debug",
        KELPIE_LOG_FORMAT="JSON",
        KELPIE_STATE_FILE="state.json",
    )
    assert read.api_url == "https://queue.example"
    assert read.max_time_with_no_work_s == 90.5
    assert read.max_job_failures == 2
    assert read.recreate_between_jobs
    assert (read.log_level, read.log_format) == ("DEBUG", "json")
    assert read.state_file.is_absolute()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KELPIE_API_KEY": ""}, "KELPIE_API_KEY must be set"),
        (
            {"KELPIE_CONTAINER_GROUP_ID": ""},
            "SALAD_CONTAINER_GROUP_ID (or KELPIE_CONTAINER_GROUP_ID)",
        ),
        ({"KELPIE_API_URL": "queue.example"}, "KELPIE_API_URL must be an http"),
        ({"MAX_RETRIES": "three"}, "MAX_RETRIES must be a whole number, not 'three'"),
        ({"MAX_JOB_FAILURES": "0"}, "MAX_JOB_FAILURES must be 1 or more"),
        ({"KELPIE_GRACE_PERIOD_S": "-1"}, "KELPIE_GRACE_PERIOD_S must be 0 or more"),
        ({"KELPIE_POLL_INTERVAL_S": "0"}, "KELPIE_POLL_INTERVAL_S must be greater than 0"),
        ({"KELPIE_LONG_POLL_S": "61"}, "KELPIE_LONG_POLL_S must be from 0 to 60"),
        ({"KELPIE_LOG_FORMAT": "xml"}, "KELPIE_LOG_FORMAT must be one of text, json"),
        ({"KELPIE_RECREATE_BETWEEN_JOBS": "maybe"}, "must be true or false"),
        ({"MAX_TIME_WITH_NO_WORK_S": "nan"}, "MAX_TIME_WITH_NO_WORK_S must be 0 or more"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings(tmp_path, **env)


def test_default_machine_id_is_stable_and_differs_per_folder(tmp_path: Path) -> None:
    assert default_machine_id(tmp_path / "a") == default_machine_id(tmp_path / "a")
    assert default_machine_id(tmp_path / "a") != default_machine_id(tmp_path / "b")
