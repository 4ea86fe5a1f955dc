"""The worker agent: takes jobs, moves their files, runs them, keeps their leases."""
