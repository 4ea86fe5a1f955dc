"""Kelpie: shepherds long-running jobs to completion on interruptible machines."""

__version__ = "0.1.0"
