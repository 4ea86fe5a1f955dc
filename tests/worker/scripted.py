"""A scripted transport for the worker's API client: answers given in turn, requests kept."""

from collections.abc import Callable

import httpx

from kelpie.worker.backoff import Backoff
from kelpie.worker.client import WorkerApi

JOB = {
    "id": "j1",
    "user_id": "u1",
    "status": "running",
    "created": "2024-10-20T14:08:33.000Z",
    "command": "python",
    "container_group_id": "g",
    "some_future_field": {"ignored": True},
}
Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*answers: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler that gives ``answers`` in turn (the last one forever) and keeps the requests."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen) - 1, len(answers) - 1)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle, seen


def api(handler: Handler, max_retries: int = 2) -> WorkerApi:
    return WorkerApi(
        base_url="http://api.test",
        api_key="secret",
        machine_id="m1",
        container_group_id="g",
        max_retries=max_retries,
        backoff=Backoff(base=0.001, cap=0.002),
        transport=httpx.MockTransport(handler),
    )
