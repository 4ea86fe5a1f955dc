"""The contract's timestamp format: ISO 8601 UTC with milliseconds and ``Z``."""

from datetime import UTC, datetime


def format_timestamp(value: datetime) -> str:
    """``2024-10-20T14:08:33.000Z``; a naive datetime is taken to be UTC (SQLite returns those)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Reads the contract's format (and any ISO 8601 with an offset) into an aware datetime."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
