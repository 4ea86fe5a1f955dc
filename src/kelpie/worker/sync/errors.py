"""The one error the sync engine raises to the worker."""


class SyncError(Exception):
    """Files could not be moved (after retries); the message says which and why."""
