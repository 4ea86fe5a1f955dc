"""What every request reaches through ``request.app.state.kelpie``: settings, store, signals."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from kelpie.api.settings import Settings
from kelpie.api.signals import WorkSignals
from kelpie.api.token_cache import TokenCache
from kelpie.store.errors import Unavailable
from kelpie.store.jobs import JobStore


@dataclass
class AppState:
    settings: Settings
    signals: WorkSignals
    tokens: TokenCache = field(default_factory=TokenCache)
    store: JobStore | None = None
    """Set while the app runs: opened by the lifespan, or handed in by ``kelpie server``."""


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.kelpie
    return state


def store(request: Request) -> JobStore:
    opened = app_state(request).store
    if opened is None:
        raise Unavailable("the server is not connected to its database")
    return opened


def signals(request: Request) -> WorkSignals:
    return app_state(request).signals


Store = Annotated[JobStore, Depends(store)]
Signals = Annotated[WorkSignals, Depends(signals)]
