"""Users and their tokens: created by the admin, read by the user."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from kelpie.api.auth import CurrentUser, require_admin
from kelpie.api.responses import UserId
from kelpie.api.state import Store
from kelpie.jobs import format_timestamp
from kelpie.store.records import UserRecord

router = APIRouter(tags=["users"])


class NewUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    username: Annotated[StrictStr, Field(min_length=1, max_length=200)]


class NewToken(BaseModel):
    model_config = ConfigDict(extra="ignore")

    org_name: StrictStr | None = None
    project_name: StrictStr | None = None


class UserOut(BaseModel):
    id: str
    username: str
    created: str


class TokenOut(BaseModel):
    token: str


def _user_body(user: UserRecord) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "created": format_timestamp(user.created)}


@router.post(
    "/users", status_code=201, response_model=UserOut, dependencies=[Depends(require_admin)]
)
async def create_user(body: NewUser, store: Store) -> dict[str, Any]:
    """Admin only. A taken username is 409."""
    return _user_body(await store.create_user(body.username))


@router.post(
    "/users/{user_id}/token",
    status_code=201,
    response_model=TokenOut,
    dependencies=[Depends(require_admin)],
)
async def create_token(
    user_id: UserId, store: Store, body: Annotated[NewToken | None, Body()] = None
) -> dict[str, str]:
    """Admin only. The token is shown once; the server keeps only its hash."""
    request = body or NewToken()
    token = await store.create_token(user_id, request.org_name, request.project_name)
    return {"token": token}


@router.get("/users/me", response_model=UserOut)
async def me(user: CurrentUser) -> dict[str, Any]:
    return _user_body(user)
