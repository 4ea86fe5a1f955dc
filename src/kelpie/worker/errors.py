"""Every error the worker raises on purpose, in one tree.

httpx errors are translated where they enter our code (``client.py``), so the agent never
handles a transport's exception::

    WorkerError
     ├── SettingsError        a setting is missing or malformed (the worker does not start)
     └── ApiError             the API could not be used
          ├── ApiUnavailable  no answer, or 5xx, after every retry
          ├── ApiRejected     a 4xx that retrying cannot fix (bad key, bad request)
          └── LeaseLost       409/404 on a report, or ``canceled`` on a heartbeat
"""


class WorkerError(Exception):
    """Base of every error the worker raises on purpose."""


class SettingsError(WorkerError):
    """A setting is missing or malformed; the message names it and says what is expected."""


class ApiError(WorkerError):
    """The coordination API could not be used."""


class ApiUnavailable(ApiError):
    """The API did not answer, or answered 5xx, after every retry."""


class ApiRejected(ApiError):
    """The API refused the request for a reason that retrying cannot fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"the API answered {status}: {message}")
        self.status = status


class LeaseLost(ApiError):
    """This machine no longer holds the job: stop it, upload nothing more, report nothing."""
