"""ClickHouse's refusals, by what to do: wait and retry, or find the rows at fault."""

from __future__ import annotations

import pytest
from asynch.errors import NetworkError, SocketTimeoutError

from clickstream.etl.refusals import UNKNOWN_ERROR_ATTEMPTS, Verdict, classify, give_up_on_block

from .fakes import server_error


@pytest.mark.parametrize(
    "error",
    [
        OSError("connection refused"),
        ConnectionResetError(),
        EOFError(),
        TimeoutError(),
        NetworkError(),  # type: ignore[no-untyped-call]
        SocketTimeoutError(),  # type: ignore[no-untyped-call]
        server_error("Table is in readonly mode", 242),
        server_error("No ZooKeeper", 225),
        server_error("Keeper session expired", 999),
        server_error("All connection tries failed", 279),
        server_error("Memory limit (total) exceeded", 241),
        server_error("Too many parts (3000). Merges are processing significantly slower", 252),
        server_error("Cannot write to file primary.idx, errno: 28, No space left on device", 75),
        server_error("Cannot reserve 1.00 MiB, not enough space", 243),
    ],
    ids=repr,
)
def test_transient(error: BaseException) -> None:
    assert classify(error) is Verdict.TRANSIENT
    assert not give_up_on_block(error, failures=1000)


@pytest.mark.parametrize(
    "error",
    [
        server_error("Cannot parse input", 27),
        server_error("Cannot parse datetime", 41),
        server_error("Type mismatch", 53),
        server_error("Cannot parse UUID", 376),
        server_error("Too many partitions for single INSERT block (more than 100)", 252),
    ],
    ids=repr,
)
def test_deterministic(error: BaseException) -> None:
    assert classify(error) is Verdict.DETERMINISTIC
    assert give_up_on_block(error, failures=1)


def test_an_unknown_code_is_retried_a_few_times_then_blamed_on_the_block() -> None:
    error = server_error("new in a later release", 8888)

    assert classify(error) is Verdict.UNKNOWN
    assert not give_up_on_block(error, failures=UNKNOWN_ERROR_ATTEMPTS - 1)
    assert give_up_on_block(error, failures=UNKNOWN_ERROR_ATTEMPTS)
