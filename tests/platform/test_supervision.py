"""The restart decisions, without processes."""

import pytest

from kelpie.platform.supervision import ExitReason, RestartPolicy, quick_exits, restart_delay

POLICY = RestartPolicy(first_delay_s=0.5, factor=2.0, max_delay_s=4.0, healthy_after_s=30.0)


def test_a_crash_after_a_healthy_run_restarts_at_once() -> None:
    in_row = quick_exits(previous=3, uptime_s=31.0, policy=POLICY)

    assert in_row == 0
    assert restart_delay(ExitReason.CRASH, in_row, POLICY) == 0.0


@pytest.mark.parametrize(("in_row", "delay"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)])
def test_quick_crashes_back_off_exponentially_up_to_the_cap(in_row: int, delay: float) -> None:
    assert restart_delay(ExitReason.CRASH, in_row, POLICY) == delay


def test_quick_crashes_are_counted_in_a_row() -> None:
    assert quick_exits(previous=2, uptime_s=1.0, policy=POLICY) == 3


def test_a_stopping_platform_starts_nothing_and_struck_workers_are_replaced_at_once() -> None:
    assert restart_delay(ExitReason.STOP, 5, POLICY) is None
    assert restart_delay(ExitReason.KILLED, 5, POLICY) == 0.0
    assert restart_delay(ExitReason.TERMINATED, 5, POLICY) == 0.0
