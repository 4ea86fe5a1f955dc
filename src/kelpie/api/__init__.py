"""The HTTP API: the Kelpie contract over a ``JobStore``, with long polls and fencing."""

from kelpie.api.app import create_app
from kelpie.api.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError", "create_app"]
