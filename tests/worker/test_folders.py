from pathlib import Path

from kelpie.jobs import Job
from kelpie.worker.folders import clear_folders, plan_for

LEGACY = {
    "id": "j",
    "user_id": "u",
    "status": "running",
    "created": "2024-10-20T14:08:33.000Z",
    "command": "run",
    "container_group_id": "g",
    "input_bucket": "in-b",
    "input_prefix": "in",
    "checkpoint_bucket": "ck-b",
    "checkpoint_prefix": "ck/",
    "output_bucket": "out-b",
    "output_prefix": "out/",
}


def test_a_legacy_job_gets_three_folders_and_their_variables(tmp_path: Path) -> None:
    plan = plan_for(Job.model_validate(LEGACY), tmp_path)
    assert [(c.bucket, c.prefix, c.direction) for c in plan.before] == [
        ("in-b", "in/", "download"),
        ("ck-b", "ck/", "download"),
    ]
    assert [(c.bucket, c.prefix, c.direction) for c in plan.during] == [("ck-b", "ck/", "upload")]
    assert [(c.bucket, c.prefix, c.direction) for c in plan.after] == [("out-b", "out/", "upload")]
    assert plan.environment == {
        "INPUT_DIR": str(tmp_path / "input"),
        "CHECKPOINT_DIR": str(tmp_path / "checkpoint"),
        "OUTPUT_DIR": str(tmp_path / "output"),
    }
    assert plan.folders(tmp_path) == [
        tmp_path / "input",
        tmp_path / "checkpoint",
        tmp_path / "output",
    ]


def test_clearing_empties_folders_but_never_the_workers_own(tmp_path: Path) -> None:
    job_folder = tmp_path / "data"
    (job_folder / "deep").mkdir(parents=True)
    (job_folder / "deep" / "file").write_text("x")
    (job_folder / "file").write_text("x")
    own = tmp_path / ".kelpie"
    own.mkdir()
    (own / "state.json").write_text("{}")
    clear_folders([job_folder, tmp_path, tmp_path / "missing"], keep=[own])
    assert list(job_folder.iterdir()) == []
    assert (own / "state.json").exists()
    assert (tmp_path / "missing").is_dir()
