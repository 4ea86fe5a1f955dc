"""Workloads shipped with Kelpie, so that ``kelpie demo`` runs from a plain ``pip install``."""
