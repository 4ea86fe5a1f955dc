"""The store: all state and all SQL. Correctness under concurrency lives here, in the database.

``JobStore`` is the whole interface; ``upgrade`` migrates a database without serving it.
"""

from kelpie.store.jobs import JobStore
from kelpie.store.migrate import upgrade
from kelpie.store.records import UserRecord

__all__ = ["JobStore", "UserRecord", "upgrade"]
