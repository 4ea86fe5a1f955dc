"""The HTTP API: the Kelpie contract over a ``JobStore``, with long polls and fencing.

``create_app`` is loaded on first use, so that reading ``kelpie.api.settings`` (as every
``kelpie`` command does) does not load FastAPI and the store.
"""

from typing import TYPE_CHECKING, Any

from kelpie.api.settings import Settings, SettingsError

if TYPE_CHECKING:
    from kelpie.api.app import create_app

__all__ = ["Settings", "SettingsError", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from kelpie.api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
