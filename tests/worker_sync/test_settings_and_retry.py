"""Pure pieces: settings from the environment, the backoff schedule, the public names."""

import pytest

import kelpie.storage
import kelpie.worker.sync
from kelpie.worker.sync import SyncSettings
from kelpie.worker.sync.retry import backoff_delay


def test_settings_read_the_original_watcher_variables_and_ours() -> None:
    settings = SyncSettings.from_env(
        {
            "KELPIE_TRANSFER_CONCURRENCY": "4",
            "KELPIE_TRANSFER_ATTEMPTS": "2",
            "FILE_WATCHER_DEBOUNCE_MS": "10",
            "FILE_WATCHER_MAX_WAIT_MS": "900",
            "FILE_WATCHER_STABILITY_CHECK_MS": "25",
        }
    )
    assert settings == SyncSettings(
        concurrency=4, attempts=2, debounce_ms=10, max_wait_ms=900, stability_check_ms=25
    )
    assert SyncSettings.from_env({}) == SyncSettings()


@pytest.mark.parametrize(
    ("name", "value"),
    [("KELPIE_TRANSFER_CONCURRENCY", "0"), ("FILE_WATCHER_MAX_WAIT_MS", "soon")],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        SyncSettings.from_env({name: value})


def test_backoff_doubles_up_to_its_cap_and_jitters_below_it() -> None:
    assert [backoff_delay(n, 0.5, 4.0, lambda: 1.0) for n in range(6)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        4.0,
        4.0,
    ]
    assert backoff_delay(3, 0.5, 4.0, lambda: 0.25) == 1.0
    assert backoff_delay(3, 0.5, 4.0, lambda: 0.0) == 0.0


def test_the_public_names_are_the_documented_interface() -> None:
    assert sorted(kelpie.worker.sync.__all__) == [
        "DuringSync",
        "SyncError",
        "SyncSettings",
        "TransferTracker",
        "download_all",
        "resolve_local_path",
        "upload_all",
    ]
    assert {"ObjectInfo", "Storage", "StorageError", "storage_from_env"} <= set(
        kelpie.storage.__all__
    )
