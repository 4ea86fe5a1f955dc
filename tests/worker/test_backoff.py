import pytest

from kelpie.worker.backoff import Backoff


def test_delays_double_until_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=8.0)
    highest = [backoff.delay(attempt, rand=lambda: 1.0) for attempt in range(7)]
    assert highest == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


@pytest.mark.parametrize("attempt", [0, 3, 10, 1000])
def test_jitter_keeps_the_delay_within_the_upper_half(attempt: int) -> None:
    backoff = Backoff(base=0.5, cap=30.0)
    ceiling = min(30.0, 0.5 * 2 ** min(attempt, 32))
    assert backoff.delay(attempt, rand=lambda: 0.0) == ceiling / 2
    assert ceiling / 2 <= backoff.delay(attempt) <= ceiling
