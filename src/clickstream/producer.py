"""The Kafka sink the API hands events to (aiokafka lives here and in etl/).

200 means durable: `send` returns only after every record of the call was
acknowledged by the in-sync replicas (acks=all, idempotent producer). When
Kafka is unreachable, overloaded, or silent past the deadline, it raises
`Unavailable` and the API answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from clickstream.config import ApiSettings, KafkaSettings
from clickstream.errors import Unavailable
from clickstream.events import Record

log = logging.getLogger(__name__)

PROBE_INTERVAL_S = 1.0
# A stuck idempotent producer (sequence numbers out of step after a broker
# blip, aiokafka issue 1017) never recovers by itself: after this many
# consecutive failed sends while the cluster answers metadata, start a new one.
RESTART_AFTER_FAILURES = 5
RESTART_MIN_INTERVAL_S = 10.0


class EventSink(Protocol):
    @property
    def ready(self) -> bool: ...

    async def send(self, records: Sequence[Record]) -> None: ...


def kafka_client_options(settings: KafkaSettings) -> dict[str, Any]:
    """Connection options shared by the producer and the ETL's clients."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
        "request_timeout_ms": settings.request_timeout_ms,
    }
    if settings.sasl_mechanism:
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = (
            settings.sasl_password.get_secret_value() if settings.sasl_password else None
        )
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        from aiokafka.helpers import create_ssl_context

        options["ssl_context"] = create_ssl_context()
    return options


class KafkaSink:
    """An aiokafka producer that reconnects, reports readiness and fails fast."""

    def __init__(self, kafka: KafkaSettings, api: ApiSettings) -> None:
        self._kafka = kafka
        self._api = api
        self._producer: AIOKafkaProducer | None = None
        self._ready = False
        self._in_flight = 0
        self._failures = 0
        self._last_restart = 0.0
        self._probe_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._start_failed_logged = False

    @property
    def ready(self) -> bool:
        return self._ready

    async def start(self) -> None:
        """Start the producer if Kafka answers; keep trying in the background."""
        await self._ensure_producer()
        self._probe_task = asyncio.create_task(self._probe_loop(), name="kafka-probe")

    async def stop(self) -> None:
        self._stopping = True
        if self._probe_task is not None:
            self._probe_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe_task
        await self._close_producer()

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **kafka_client_options(self._kafka),
            acks="all",
            enable_idempotence=True,
            linger_ms=self._api.linger_ms,
            max_batch_size=256 * 1024,
            client_id="clickstream-api",
        )

    async def _ensure_producer(self) -> None:
        if self._producer is not None:
            return
        producer = self._new_producer()
        try:
            await asyncio.wait_for(producer.start(), timeout=self._api.produce_timeout_s)
        except (KafkaError, OSError, TimeoutError) as error:
            if self._ready or not self._start_failed_logged:
                log.warning("kafka producer cannot start yet: %r", error)
                self._start_failed_logged = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=1.0)
            self._ready = False
            return
        self._producer = producer
        self._start_failed_logged = False
        self._failures = 0
        self._ready = True
        log.info("kafka producer started", extra={"bootstrap": self._kafka.bootstrap_servers})

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        self._ready = False
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=self._api.produce_timeout_s)

    async def _probe_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(PROBE_INTERVAL_S)
            try:
                await self._probe()
            except Exception:  # a probe must never end the loop
                log.exception("kafka probe failed")

    async def _probe(self) -> None:
        if self._producer is None:
            await self._ensure_producer()
            return
        try:
            await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout=2.0)
        except (KafkaError, OSError, TimeoutError):
            if self._ready:
                log.warning("kafka unreachable: not ready")
            self._ready = False
            return
        if not self._ready:
            log.info("kafka reachable again: ready")
        self._ready = True
        now = time.monotonic()
        if (
            self._failures >= RESTART_AFTER_FAILURES
            and now - self._last_restart > RESTART_MIN_INTERVAL_S
        ):
            log.warning("restarting kafka producer after %d failed sends", self._failures)
            self._last_restart = now
            await self._close_producer()
            await self._ensure_producer()

    async def send(self, records: Sequence[Record]) -> None:
        producer = self._producer
        if producer is None or not self._ready:
            raise Unavailable("kafka is unavailable")
        if self._in_flight + len(records) > self._api.max_in_flight:
            raise Unavailable("too many events waiting for kafka")
        self._in_flight += len(records)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._api.produce_timeout_s
        try:
            async with asyncio.timeout_at(deadline):
                pending = [
                    await producer.send(
                        self._kafka.topic, value=r.value, key=r.key, headers=r.headers
                    )
                    for r in records
                ]
            # Wait without cancelling: the delivery futures belong to the producer.
            done, late = await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
            if late:
                raise TimeoutError
            for future in done:
                future.result()
        except (KafkaError, TimeoutError) as error:
            self._failures += 1
            raise Unavailable(f"kafka did not acknowledge: {type(error).__name__}") from error
        finally:
            self._in_flight -= len(records)
        self._failures = 0
