"""The store: all state and all SQL. Correctness under concurrency lives here, in the database."""
