"""Fixtures over the real local stack (`clickstream local`).

The stack is the one `make test-integration` / `make test-cluster` (or `make
up`) brought up: these fixtures only find it, under the `CLICKSTREAM_LOCAL__*`
state directory, and never install or start anything. Without one the tests
skip, or fail under CI=true, where a missing stack is a broken pipeline. Every
test gets its own Kafka topics, consumer group and ClickHouse database, so
tests never read each other's data.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from clickstream.clickhouse.client import ClickHouse
from clickstream.clickhouse.migrations import migrate
from clickstream.config import Settings
from clickstream.suppression import ingest_database
from clickstream_local import kafka_topics
from clickstream_local.stack import Stack
from tests.local_stack import healthy_stack

TEST_PARTITIONS = 4


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack() -> Stack:
    return healthy_stack("`make test-integration` (or `make up` first)")


@pytest.fixture(scope="session")
def cluster(stack: Stack) -> Stack:
    assert stack.plan.topology == "cluster", (
        "cluster tests need `clickstream local up --topology cluster`"
    )
    return stack


@pytest.fixture(scope="session")
def base_settings(stack: Stack) -> Settings:
    return stack.service_settings()


@pytest.fixture
async def settings(base_settings: Settings, stack: Stack) -> AsyncIterator[Settings]:
    """Settings with a topic, dead-letter topic, group and database of this test's own."""
    suffix = uuid.uuid4().hex[:10]
    topic, dlq = f"test.{suffix}", f"test.{suffix}.dlq"
    database = f"test_{suffix}"
    replication = min(3, len([c for c in stack.plan.components if c.kind == "kafka"]))
    await kafka_topics.ensure_topics(
        base_settings.kafka.bootstrap_servers,
        {topic: TEST_PARTITIONS, dlq: 1},
        replication=replication,
    )
    await migrate(base_settings.clickhouse, database=database)
    settings = base_settings.model_copy(
        update={
            "kafka": base_settings.kafka.model_copy(update={"topic": topic, "dlq_topic": dlq}),
            "clickhouse": base_settings.clickhouse.model_copy(update={"database": database}),
            "etl": base_settings.etl.model_copy(
                update={
                    "group_id": f"test-{suffix}",
                    "metrics_port": 0,
                    "metrics_host": "127.0.0.1",
                    "batch_max_wait_s": 0.3,
                    "retry_max_s": 2.0,
                }
            ),
        }
    )
    yield settings
    on_cluster = (
        f"ON CLUSTER {settings.clickhouse.cluster}" if settings.clickhouse.replicated else ""
    )
    async with ClickHouse(base_settings.clickhouse, ddl=True) as clickhouse:
        # The ETL's door database (migration 0020) beside the test's own.
        for name in (ingest_database(database), database):
            await clickhouse.execute(f"DROP DATABASE IF EXISTS {name} {on_cluster}")
    await kafka_topics.delete_topics(base_settings.kafka.bootstrap_servers, [topic, dlq])
