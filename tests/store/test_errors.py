"""Driver errors become store errors by what they mean (no database needed)."""

import pytest
from sqlalchemy import exc

from kelpie.store.engine import translated_errors
from kelpie.store.errors import Conflict, Invalid, StoreError, Unavailable


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (exc.IntegrityError("INSERT", {}, DriverError("23505")), Conflict),
        (exc.DBAPIError("INSERT", {}, DriverError("22001")), Invalid),
        (exc.DBAPIError("SELECT", {}, DriverError("57P03")), Unavailable),
        (exc.DBAPIError("SELECT", {}, DriverError("40P01")), Unavailable),
        (exc.OperationalError("SELECT", {}, DriverError("")), Unavailable),
        (exc.DBAPIError("SELECT", {}, DriverError("42601")), StoreError),
        (ConnectionRefusedError("refused"), Unavailable),
    ],
)
def test_driver_errors_are_translated(error: Exception, expected: type[StoreError]) -> None:
    with pytest.raises(expected) as raised, translated_errors():
        raise error

    assert type(raised.value) is expected
    assert raised.value.__cause__ is error
