"""SIGTERM and SIGINT to the worker: remembered, not acted on in the signal handler.

The agent and the attempt look at ``requested`` at their own safe points; the signal itself is
forwarded to the job's command, so a command that saves a checkpoint on SIGTERM (or on Ctrl-C)
gets the signal it expects.
"""

import asyncio
import logging
import signal

logger = logging.getLogger("kelpie.worker")

HANDLED = (signal.SIGTERM, signal.SIGINT)


class Shutdown:
    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.signal = signal.SIGTERM

    def request(self, sig: signal.Signals) -> None:
        if not self.requested.is_set():
            logger.info("received %s: finishing up", sig.name)
            self.signal = sig
            self.requested.set()

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in HANDLED:
            loop.add_signal_handler(sig, self.request, sig)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in HANDLED:
            loop.remove_signal_handler(sig)
