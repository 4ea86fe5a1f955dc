"""``kelpie server``, ``kelpie db upgrade`` and ``kelpie users create`` as an operator runs them."""

from pathlib import Path

import httpx
import pytest

from tests.api.helpers import kelpie
from tests.support import databases
from tests.support.servers import api_server

UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
UNWRITABLE = "sqlite+aiosqlite:////no/such/folder/kelpie.db"


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = databases.sqlite_url(tmp_path)
    upgraded = kelpie("db", "upgrade", cwd=tmp_path, KELPIE_DATABASE_URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "up to date" in upgraded.stdout
    assert (tmp_path / "kelpie.db").exists()


@pytest.mark.parametrize(
    ("args", "env", "mention"),
    [
        (["server"], {"KELPIE_DATABASE_URL": "nonsense"}, "KELPIE_DATABASE_URL"),
        (["server"], {"KELPIE_PORT": "eighty"}, "KELPIE_PORT"),
        (["server"], {"KELPIE_DATABASE_URL": UNREACHABLE}, "database"),
        (["db", "upgrade"], {"KELPIE_DATABASE_URL": UNWRITABLE}, "/no/such/folder"),
        (["users", "create", " "], {}, "empty"),
    ],
)
def test_bad_settings_are_a_clear_message_not_a_traceback(
    tmp_path: Path, args: list[str], env: dict[str, str], mention: str
) -> None:
    result = kelpie(*args, cwd=tmp_path, **env)
    assert result.returncode != 0
    assert mention in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_without_an_admin_key_admin_endpoints_say_how_to_enable_them(tmp_path: Path) -> None:
    with api_server(databases.sqlite_url(tmp_path), tmp_path, KELPIE_ADMIN_KEY="") as running:
        response = httpx.post(running.url + "/users", json={"username": "x"})
    assert response.status_code == 403
    assert "KELPIE_ADMIN_KEY" in response.json()["message"]
