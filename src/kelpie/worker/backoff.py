"""How long to wait before retrying a call that failed for a reason that may pass."""

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Exponential backoff with jitter: ``base * 2**attempt`` capped at ``cap``, of which the
    upper half is random so that a fleet of workers cut off together does not return together.
    """

    base: float = 0.5
    cap: float = 10.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """The wait before retry number ``attempt`` (0 for the first retry)."""
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 32))
        return ceiling / 2 + rand() * ceiling / 2
