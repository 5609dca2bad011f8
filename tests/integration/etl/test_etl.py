"""The ETL against the real Kafka and ClickHouse: loads, outages, crashes, poison."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from clickstream.config import Settings
from clickstream.etl.runner import Etl
from clickstream.events import EXAMPLES
from clickstream_local.stack import Stack
from tests.integration.pipeline import (
    api_client,
    event,
    post_events,
    query,
    read_topic,
    running_etl,
    start_etl_process,
    stored_ids,
    wait_for_ids,
    wait_until,
)


async def assert_exactly_once(settings: Settings, expected: set[str]) -> None:
    """Analysts see every expected event once, and nothing else."""
    seen = await stored_ids(settings, final=True)
    duplicates = [i for i, n in Counter(seen).items() if n > 1]
    assert duplicates == []
    assert set(seen) - expected == set()
    assert expected - set(seen) == set()


async def test_each_type_lands_with_its_columns(settings: Settings) -> None:
    bodies = {kind: event(kind, user_id=f"user-{kind}") for kind in EXAMPLES}
    async with api_client(settings) as client, running_etl(settings):
        ids = await post_events(client, list(bodies.values()))
        await wait_for_ids(settings, set(ids))
    db = settings.clickhouse.database
    rows = await query(
        settings,
        "SELECT event_type, toString(event_id), toString(event_time), user_id, country, device, "
        "element, page_url, referrer_url, filter_type, filter_value, video_id, from_quality, "
        f"to_quality, current_time_s, duration_s, schema_version FROM {db}.events FINAL",
    )
    by_type = {row[0]: row for row in rows}
    assert set(by_type) == set(EXAMPLES)
    common = ("2024-10-03 14:30:00", "US", "mobile")
    click = by_type["click"]
    assert (click[1], click[2], click[3]) == (bodies["click"]["event_id"], common[0], "user-click")
    assert click[4:9] == ("US", "mobile", "button_submit", "https://example.com/submit", "")
    assert by_type["page_view"][7:9] == (
        "https://example.com/submit",
        "https://example.com/redirect",
    )
    assert by_type["search_filter_use"][9:11] == ("title", "the star")
    assert by_type["quality_change"][11:15] == (
        "8bcb67fe-bde6-4645-af85-6664a9298b8c",
        "240p",
        "720p",
        3600,
    )
    assert by_type["video_complete"][11] == "8bcb67fe-bde6-4645-af85-6664a9298b8c"
    assert by_type["video_complete"][15] == 3660
    assert {row[16] for row in rows} == {2}


async def test_a_client_retry_with_the_same_event_id_is_stored_once(settings: Settings) -> None:
    body = event("click")
    async with api_client(settings) as client, running_etl(settings):
        for _ in range(3):
            response = await client.post("/api/v1/events", json={"event": body})
            assert response.status_code == 200
        await wait_for_ids(settings, {body["event_id"]})
    assert await stored_ids(settings) == [body["event_id"]]


async def test_poison_goes_to_the_dead_letter_topic_and_the_partition_flows(
    settings: Settings,
) -> None:
    valid = [event("click", user_id=f"user-{i}") for i in range(3)]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(settings.kafka.topic, b"{not json", partition=0)
        await producer.send_and_wait(
            settings.kafka.topic, orjson.dumps({"schema_version": 99}), partition=0
        )
        async with api_client(settings) as client:
            ids = await post_events(client, valid)
    finally:
        await producer.stop()
    async with running_etl(settings) as etl:
        await wait_for_ids(settings, set(ids))
        dead = await read_topic(settings, settings.kafka.dlq_topic, 2)
        assert etl.metrics.dead_lettered.labels("undecodable")._value.get() == 1
    reasons = sorted(dict(record.headers)["dlq_reason"].decode() for record in dead)
    assert reasons == ["unknown schema_version 99", "value is not JSON"]
    assert {record.value for record in dead} == {b"{not json", b'{"schema_version":99}'}
    await assert_exactly_once(settings, set(ids))


async def test_clickhouse_outage_loses_nothing(settings: Settings, stack: Stack) -> None:
    count = 2_000
    async with running_etl(settings) as etl, api_client(settings) as client:
        first = await post_events(client, [event(user_id=f"u{i % 97}") for i in range(100)])
        await wait_for_ids(settings, set(first))
        try:
            stack.stop("clickhouse")
            during = await post_events(client, [event(user_id=f"u{i % 97}") for i in range(count)])
            await wait_until(
                _retried(etl), timeout_s=30, what="the ETL to retry against the stopped ClickHouse"
            )
            assert etl.metrics.clickhouse_up._value.get() == 0
        finally:
            stack.start("clickhouse")
        await wait_for_ids(settings, set(during), timeout_s=120)
        assert etl.metrics.clickhouse_up._value.get() == 1
    await assert_exactly_once(settings, set(first) | set(during))


def _retried(etl: Etl) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(etl.metrics.insert_retries._value.get() > 0)

    return check


async def test_kill_9_mid_stream_loses_nothing_and_shows_no_duplicates(
    settings: Settings, tmp_path: Path
) -> None:
    log = str(tmp_path / "etl.log")
    events = [event(user_id=f"u{i % 211}") for i in range(6_000)]
    first = start_etl_process(settings, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        async with api_client(settings) as client:
            ids = await post_events(client, events[:3_000])

            async def some_loaded() -> bool:
                return len(await stored_ids(settings, final=False)) > 0

            await wait_until(some_loaded, timeout_s=60, what="the first rows")
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            ids += await post_events(client, events[3_000:])
        second = start_etl_process(settings, log)
        await wait_for_ids(settings, set(ids), timeout_s=120)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    await assert_exactly_once(settings, set(ids))


async def test_two_processes_share_the_partitions_and_load_everything_once(
    settings: Settings, tmp_path: Path
) -> None:
    logs = [str(tmp_path / f"etl-{n}.log") for n in (1, 2)]
    processes = [start_etl_process(settings, log) for log in logs]
    try:
        await asyncio.sleep(3)  # let both join before the data arrives
        async with api_client(settings) as client:
            ids = await post_events(client, [event(user_id=f"u{i}") for i in range(2_000)])
        await wait_for_ids(settings, set(ids), timeout_s=120)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            assert process.wait(timeout=60) == 0
    for log in logs:
        assigned = [
            orjson.loads(line)["partitions"]
            for line in Path(log).read_text().splitlines()
            if line.startswith("{") and orjson.loads(line)["message"] == "assigned partitions"
        ]
        assert any(assigned), f"{log} never got a partition"
    await assert_exactly_once(settings, set(ids))
