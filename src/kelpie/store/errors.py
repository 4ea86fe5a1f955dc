"""What the store raises; the API turns each into one HTTP answer.

StoreError
├── NotFound        the job does not exist for this user (404, as if it never existed)
├── Conflict        the event cannot happen now: lease lost, job already ended (409)
├── Invalid         a value the database cannot hold, e.g. a name that is too long (422)
└── Unavailable     the database did not answer (503); driver errors are wrapped in it
"""


class StoreError(Exception):
    """Base of every store error."""


class NotFound(StoreError):
    pass


class Conflict(StoreError):
    pass


class Invalid(StoreError):
    pass


class Unavailable(StoreError):
    pass
