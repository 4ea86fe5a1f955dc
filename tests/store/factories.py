"""Jobs for the store tests."""

from kelpie.jobs import JobSubmission


def submission(container_group_id: str, **fields: object) -> JobSubmission:
    """A valid job for ``container_group_id``; ``fields`` override the defaults."""
    body: dict[str, object] = {
        "command": "python",
        "arguments": ["/app/main.py"],
        "container_group_id": container_group_id,
        "sync": {
            "before": [
                {"bucket": "b", "prefix": "in", "local_path": "/in", "direction": "download"}
            ]
        },
        **fields,
    }
    return JobSubmission.model_validate(body)
