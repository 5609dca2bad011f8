"""The `clickstream etl` process: builds the real clients and runs the loop."""

from __future__ import annotations

import asyncio
import signal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from clickstream import telemetry
from clickstream.clickhouse.writer import ClickHouseWriter
from clickstream.config import Settings
from clickstream.etl.clients import KafkaClients
from clickstream.etl.runner import Etl
from clickstream.kafka import kafka_client_options
from clickstream.suppression import Suppression, SuppressionRefresher


def kafka_clients(settings: Settings) -> KafkaClients:
    """A fresh consumer and dead-letter producer, not started."""
    options = kafka_client_options(settings.kafka)
    etl = settings.etl
    consumer = AIOKafkaConsumer(
        **options,
        group_id=etl.group_id,
        client_id="clickstream-etl",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=etl.max_partition_fetch_bytes,
        fetch_max_bytes=4 * etl.max_partition_fetch_bytes,
        max_poll_interval_ms=600_000,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=2_000,
    )
    dead_letters = AIOKafkaProducer(
        **options, acks="all", enable_idempotence=True, client_id="clickstream-etl-dlq"
    )
    return KafkaClients(consumer, dead_letters)


def build_etl(settings: Settings) -> Etl:
    return Etl(
        settings,
        kafka=lambda: kafka_clients(settings),
        writer=ClickHouseWriter(settings.clickhouse),
        suppression=SuppressionRefresher(settings.clickhouse, Suppression()),
    )


async def run(settings: Settings) -> int:
    telemetry.setup_process(settings, service="clickstream-etl")
    etl = build_etl(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, etl.request_stop)
    try:
        await etl.run()
    finally:
        telemetry.shutdown()
    return 0
