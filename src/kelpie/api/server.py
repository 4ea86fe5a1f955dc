"""Runs the app under uvicorn, with a graceful stop that does not keep long polls waiting.

uvicorn waits for open requests before it runs the app's shutdown, so a long poll would hold
a SIGTERM for up to a minute. The signal is therefore handled here, in the event loop, where
it also wakes every long poll to answer ``[]`` at once. The signal is not re-raised after the
graceful stop (as uvicorn does), so a clean stop exits 0.
"""

import asyncio
import logging
import signal
from collections.abc import Callable, Generator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from kelpie.api.app import create_app
from kelpie.api.settings import Settings
from kelpie.store.jobs import JobStore

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop = on_stop

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._on_stop()


async def serve(settings: Settings, store: JobStore) -> None:
    """Serves until SIGTERM or SIGINT; ``store`` is opened and closed by the caller."""
    app = create_app(settings, store=store)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        timeout_graceful_shutdown=settings.shutdown_timeout,
        log_config=None,
    )
    server = GracefulServer(config, on_stop=app.state.kelpie.signals.waker.close)
    logger = logging.getLogger("kelpie.api")
    if settings.admin_key is None:
        logger.warning(
            "KELPIE_ADMIN_KEY is not set: POST /users and POST /users/{id}/token answer 403 "
            "(`kelpie users create NAME` still works)"
        )
    logger.info(
        "Kelpie API on http://%s:%d over %s",
        settings.host,
        settings.port,
        settings.safe_database_url,
    )
    await server.serve()
