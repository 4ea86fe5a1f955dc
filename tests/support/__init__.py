"""Helpers that start real servers (the API, PostgreSQL databases, moto's S3) for the tests."""
