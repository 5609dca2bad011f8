"""A block ClickHouse refuses for its rows: bisected, good rows stored once, bad ones dead-lettered."""

from __future__ import annotations

from collections.abc import Callable

import orjson

from .fakes import P0, POISON, Log, envelope, month_of, server_error, until
from .test_loader import batch_of, loader_for
from .test_runner import Pipeline, settings


def bad(marker: str = "bad") -> bytes:
    """A row our checks pass but the (fake) server refuses: it carries the marker."""
    return envelope(element=marker)


def refusing(
    code: int = 27, message: str = "Cannot parse input: expected '\"' before: 'x'"
) -> Callable[[list[bytes]], BaseException | None]:
    def refuse(rows: list[bytes]) -> BaseException | None:
        if any(b'"element":"bad"' in row for row in rows):
            return server_error(message, code)
        return None

    return refuse


async def test_bad_rows_are_dead_lettered_with_the_servers_verdict_and_the_rest_stored_once() -> (
    None
):
    log: Log = []
    load, consumer, writer = loader_for(log)
    rows = [envelope(), bad(), envelope(), envelope(), envelope(), bad(), envelope(), envelope()]
    writer.refuse = refusing()

    assert await load.load(batch_of(*rows))

    good = [row for i, row in enumerate(rows) if i not in (1, 5)]
    assert sorted(writer.stored) == sorted(good)
    assert len(writer.stored) == len(set(writer.stored)) == 6, "no row stored twice"
    dead = [entry for entry in log if entry[0] == "dead_letter"]
    assert dead == [("dead_letter", 1), ("dead_letter", 5)]
    assert log.index(dead[-1]) < [what for what, _ in log].index("commit")
    assert consumer.commits == [{P0: 8}]
    sent = load._dead_letters._producer.sent  # type: ignore[attr-defined]
    headers = sent[0][3]
    assert headers["dlq_reason"] == b"clickhouse refused the row"
    assert headers["dlq_error_code"] == b"27"
    assert headers["dlq_error_message"].startswith(b"Cannot parse input")
    assert headers["dlq_offset"] == b"1"
    assert sent[0][1] == rows[1]


async def test_a_transient_error_inside_a_bisection_retries_that_half_unchanged() -> None:
    log: Log = []
    load, _, writer = loader_for(log)
    rows = [envelope(), envelope(), bad(), envelope()]
    deterministic = refusing()
    hiccups = iter([OSError("connection reset")])  # the first half's first try fails

    def refuse(block: list[bytes]) -> BaseException | None:
        if len(block) == 2 and b'"element":"bad"' not in b"".join(block):
            return next(hiccups, None)
        return deterministic(block)

    writer.refuse = refuse

    assert await load.load(batch_of(*rows))

    halves = [block for block in writer.attempts if len(block) == 2]
    assert halves[0] == halves[1] == rows[:2], "the retried half is byte-identical"
    assert sorted(writer.stored) == sorted([rows[0], rows[1], rows[3]])


async def test_an_unknown_error_that_repeats_on_the_same_block_is_treated_as_the_blocks() -> None:
    log: Log = []
    load, consumer, writer = loader_for(log)
    writer.refuse = refusing(code=7777, message="something new")

    assert await load.load(batch_of(envelope(), bad()))

    assert writer.attempts[:5] == [writer.attempts[0]] * 5, "five tries before bisecting"
    assert consumer.commits == [{P0: 2}]
    assert [what for what, _ in log].count("dead_letter") == 1


async def test_an_outage_is_never_bisected() -> None:
    log: Log = []
    load, _, writer = loader_for(log)
    failures = iter([OSError("refused")] * 12)
    writer.refuse = lambda rows: next(failures, None)
    rows = [envelope(), envelope()]

    assert await load.load(batch_of(*rows))

    assert all(block == rows for block in writer.attempts)
    assert writer.stored == rows
    assert "dead_letter" not in [what for what, _ in log]


async def test_too_many_parts_waits_but_too_many_partitions_bisects() -> None:
    log: Log = []
    load, _, writer = loader_for(log)
    parts = iter([server_error("Too many parts (300). Merges are processing slowly", 252)] * 6)
    writer.refuse = lambda rows: next(parts, None)
    rows = [envelope(), envelope()]
    assert await load.load(batch_of(*rows))
    assert all(block == rows for block in writer.attempts), "merges behind: same block again"

    log2: Log = []
    load2, _, writer2 = loader_for(log2)
    writer2.refuse = refusing(252, "Too many partitions for single INSERT block (more than 100)")
    assert await load2.load(batch_of(envelope(), bad()))
    assert [what for what, _ in log2].count("dead_letter") == 1


async def test_no_block_spans_more_months_than_allowed() -> None:
    log: Log = []
    load, consumer, writer = loader_for(log, max_months=2)
    months = ["2024-01", "2024-02", "2024-03", "2024-01", "2024-05", "2024-02", "2024-03"]
    rows = [envelope(timestamp=f"{month}-15T10:00:00Z") for month in months]

    assert await load.load(batch_of(*rows))

    assert [len({month_of(row) for row in block}) for block in writer.attempts] == [2, 2]
    assert sorted(writer.stored) == sorted(rows)
    assert consumer.commits == [{P0: 7}]


async def test_a_refused_row_whose_dead_letter_is_not_sent_is_not_committed() -> None:
    log: Log = []
    load, consumer, writer = loader_for(log)
    writer.refuse = refusing()
    load._dead_letters._producer.down = True  # type: ignore[attr-defined]
    load._state.drain.set(grace_s=0.05)

    assert await load.load(batch_of(envelope(), bad())) is False
    assert consumer.commits == []


async def test_the_runner_dead_letters_poison_and_refused_rows_with_their_own_offsets() -> None:
    pipeline = Pipeline()
    rows = [envelope(), POISON, bad(), envelope()]
    pipeline.consumer.append(P0, *rows)
    pipeline.writer.refuse = refusing()

    async with pipeline.running(settings()):
        await until(lambda: pipeline.consumer.committed == {P0: 4})

    sent = {
        int(headers["dlq_offset"]): value for _, value, _, headers in pipeline.dead_letters.sent
    }
    assert sent == {1: POISON, 2: rows[2]}
    assert sorted(pipeline.writer.stored) == sorted([rows[0], rows[3]])
    assert orjson.loads(rows[2])["element"] == "bad"
