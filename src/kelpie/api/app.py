"""``create_app``: the FastAPI application, its lifespan and its middleware."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from kelpie.api.body_limit import BodyLimit
from kelpie.api.errors import install_error_handlers
from kelpie.api.routes import health, jobs, users, work
from kelpie.api.settings import Settings
from kelpie.api.signals import WorkSignals
from kelpie.api.state import AppState
from kelpie.api.storable import reject_unstorable_values
from kelpie.store.jobs import JobStore

DESCRIPTION = """A Kelpie-compatible job queue for long-running jobs on interruptible machines.

Every request carries `X-Kelpie-Key`. Every error is JSON `{"error": code, "message": text}`.
"""


def create_app(settings: Settings | None = None, *, store: JobStore | None = None) -> FastAPI:
    """The API over ``settings.database_url``.

    Given an opened ``store`` (as ``kelpie server`` does, to report a bad database before it
    listens), the app uses it and leaves closing it to the caller; otherwise the lifespan
    opens and closes one, so the app also runs under any ASGI server as a factory.
    """
    settings = settings or Settings.from_env()
    state = AppState(settings, WorkSignals(settings.database_url, settings.poll_interval))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        opened = store or await JobStore.open(settings.database_url)
        state.store = opened
        await state.signals.start(opened)
        try:
            yield
        finally:
            await state.signals.stop()
            state.store = None
            if store is None:
                await opened.close()

    app = FastAPI(
        title="Kelpie",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(reject_unstorable_values)],
    )
    app.state.kelpie = state
    install_error_handlers(app)
    for module in (jobs, work, users, health):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
