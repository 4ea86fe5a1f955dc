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


async def store(request: Request) -> JobStore:
    opened = app_state(request).store
    if opened is None:
        raise Unavailable("the server is not connected to its database")
    return opened


async def signals(request: Request) -> WorkSignals:
    return app_state(request).signals


# The dependencies are coroutines, though they never wait: FastAPI runs a plain function
# dependency in a worker thread, a hop per request that cost measurable time under load.
Store = Annotated[JobStore, Depends(store)]
Signals = Annotated[WorkSignals, Depends(signals)]
