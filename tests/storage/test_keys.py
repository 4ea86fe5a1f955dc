"""Keys become paths only inside their folder."""

from pathlib import Path

import pytest

from kelpie.storage import UnsafeKeyError, path_for_key


@pytest.mark.parametrize(
    ("key", "expected"),
    [("a.txt", "a.txt"), ("deep/er/file.bin", "deep/er/file.bin"), ("..hidden", "..hidden")],
)
def test_safe_keys_land_under_the_root(tmp_path: Path, key: str, expected: str) -> None:
    assert path_for_key(tmp_path, key) == tmp_path / expected


@pytest.mark.parametrize(
    "key",
    [
        "../escape.txt",
        "a/../../escape.txt",
        "a/..",
        "/etc/passwd",
        "a//b",
        "./a",
        "",
        "..\\escape.txt",
        "a\\..\\..\\escape.txt",
        "nul\x00byte",
    ],
)
def test_keys_that_could_leave_the_root_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(UnsafeKeyError):
        path_for_key(tmp_path, key)


def test_a_symlink_inside_the_root_cannot_lead_out(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(UnsafeKeyError):
        path_for_key(root, "link/escape.txt")
