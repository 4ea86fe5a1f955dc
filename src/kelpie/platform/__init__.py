"""The whole platform on one machine: the API, local storage and a pool of worker processes.

``kelpie up`` and ``kelpie demo`` (and the end-to-end test, through the demo) run it.
"""
