"""The server's settings as read from the environment: defaults, overrides, clear refusals."""

import pytest

from kelpie.api import Settings, SettingsError


def test_defaults_match_the_documented_table() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///./kelpie.db"
    assert (settings.host, settings.port, settings.admin_key) == ("127.0.0.1", 8000, None)
    assert settings.max_body_bytes == 1024 * 1024
    assert (settings.poll_interval, settings.shutdown_timeout) == (0.25, 30)
    assert (settings.log_level, settings.access_log) == ("info", False)


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "KELPIE_DATABASE_URL": "postgresql+asyncpg://kelpie:secret@db:5432/kelpie",
            "KELPIE_ADMIN_KEY": "admin",
            "KELPIE_HOST": "0.0.0.0",
            "KELPIE_PORT": "9000",
            "KELPIE_LOG_LEVEL": "DEBUG",
            "KELPIE_ACCESS_LOG": "yes",
            "KELPIE_MAX_BODY_BYTES": "2048",
            "KELPIE_POLL_INTERVAL": "0.5",
            "KELPIE_SHUTDOWN_TIMEOUT": "5",
        }
    )
    assert settings.port == 9000
    assert (settings.log_level, settings.access_log) == ("debug", True)
    assert (settings.max_body_bytes, settings.poll_interval, settings.shutdown_timeout) == (
        2048,
        0.5,
        5,
    )
    assert "secret" not in settings.safe_database_url


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KELPIE_PORT", "eighty"),
        ("KELPIE_PORT", "70000"),
        ("KELPIE_DATABASE_URL", "not a url"),
        ("KELPIE_LOG_LEVEL", "loud"),
        ("KELPIE_ACCESS_LOG", "maybe"),
        ("KELPIE_MAX_BODY_BYTES", "0"),
        ("KELPIE_POLL_INTERVAL", "0"),
        ("KELPIE_SHUTDOWN_TIMEOUT", "-1"),
    ],
)
def test_a_bad_value_is_refused_naming_it(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({variable: value})
    assert variable in str(refused.value)
