"""The error table: every error the API can raise has one status, and one handler answers it."""

from __future__ import annotations

import inspect

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from clickstream import errors
from clickstream.api.app import create_app
from clickstream.api.errors import ERROR_RESPONSES, status_of
from clickstream.config import ApiSettings, Settings

from .fake_sink import FakeSink


def raised_by_the_api() -> list[type[errors.ClickstreamError]]:
    """Every Rejected or Unavailable in the vocabulary that has no subclasses of its own.

    A base with subclasses (Rejected) is never raised itself; PoisonRecord is the ETL's.
    """
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.Rejected | errors.Unavailable) and not cls.__subclasses__()
    ]


def test_the_vocabulary_is_found() -> None:
    assert errors.BodyTooLarge in raised_by_the_api()
    assert errors.Unavailable in raised_by_the_api()
    assert errors.Rejected not in raised_by_the_api()
    assert errors.PoisonRecord not in raised_by_the_api()


@pytest.mark.parametrize("error_type", raised_by_the_api(), ids=lambda cls: cls.__name__)
def test_every_error_the_api_raises_has_a_status_in_the_table(
    error_type: type[errors.ClickstreamError],
) -> None:
    assert error_type in ERROR_RESPONSES


def test_rejections_are_4xx_and_unavailability_is_503() -> None:
    for error_type, entry in ERROR_RESPONSES.items():
        if issubclass(error_type, errors.Rejected):
            assert 400 <= entry.status < 500, error_type
        else:
            assert issubclass(error_type, errors.Unavailable)
            assert entry.status == 503


def test_a_status_names_one_error() -> None:
    statuses = [entry.status for entry in ERROR_RESPONSES.values()]

    assert len(statuses) == len(set(statuses))


def example_of(error_type: type[errors.ClickstreamError]) -> errors.ClickstreamError:
    if issubclass(error_type, errors.InvalidEvent):
        return error_type([{"type": "missing", "loc": ["body"], "msg": "Field required"}])
    return error_type("what went wrong")


async def answer(error: Exception) -> httpx.Response:
    """What a client gets when a route raises `error`."""

    async def raising(request: Request) -> Response:
        raise error

    app = create_app(Settings(api=ApiSettings(retry_after_s=9)), FakeSink())
    app.add_route("/raise", raising, methods=["POST"])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/raise")


@pytest.mark.parametrize("error_type", list(ERROR_RESPONSES), ids=lambda cls: cls.__name__)
async def test_the_handler_answers_with_the_tables_status_and_the_errors_detail(
    error_type: type[errors.ClickstreamError],
) -> None:
    error = example_of(error_type)

    response = await answer(error)

    assert response.status_code == ERROR_RESPONSES[error_type].status == status_of(error)
    if isinstance(error, errors.Unavailable):
        assert response.json() == {"detail": error.reason}
        assert response.headers["retry-after"] == "9"
    else:
        assert isinstance(error, errors.Rejected)
        assert response.json() == {"detail": error.detail}
        assert "retry-after" not in response.headers


@pytest.mark.parametrize(
    "error",
    [errors.PoisonRecord("not for HTTP"), errors.Rejected("which rejection?")],
    ids=["PoisonRecord", "bare-Rejected"],
)
async def test_an_error_missing_from_the_table_is_a_500_not_a_guessed_status(
    error: errors.ClickstreamError,
) -> None:
    assert status_of(error) is None

    response = await answer(error)

    assert response.status_code == 500
