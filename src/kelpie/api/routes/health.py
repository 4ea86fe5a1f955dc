"""``/healthz`` for load balancers and probes: 200 when the database answers, else 503."""

from fastapi import APIRouter

from kelpie.api.state import Store

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(store: Store) -> dict[str, str]:
    await store.ping()
    return {"status": "ok"}
