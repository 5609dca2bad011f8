"""What of the Kafka sink can be checked without Kafka: options, admission, drain."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import pytest
from aiokafka.errors import NotLeaderForPartitionError
from pydantic import SecretStr

from clickstream.config import KafkaSettings
from clickstream.errors import Unavailable
from clickstream.kafka import kafka_client_options
from clickstream.producer import KafkaSink

from .fake_kafka import TOPIC, FakeProducer, record


def test_plaintext_options() -> None:
    options = kafka_client_options(
        KafkaSettings(bootstrap_servers="k:9092", request_timeout_ms=1234)
    )

    assert options == {
        "bootstrap_servers": "k:9092",
        "security_protocol": "PLAINTEXT",
        "request_timeout_ms": 1234,
    }


def test_sasl_options_reveal_the_password_only_to_the_client() -> None:
    settings = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="api",
        sasl_password=SecretStr("hunter2"),
    )

    options = kafka_client_options(settings)

    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "api"
    assert options["sasl_plain_password"] == "hunter2"
    assert isinstance(options["ssl_context"], ssl.SSLContext)


@pytest.mark.parametrize(("protocol", "has_ssl"), [("SSL", True), ("SASL_PLAINTEXT", False)])
def test_ssl_context_only_for_ssl_protocols(protocol: str, has_ssl: bool) -> None:
    options = kafka_client_options(KafkaSettings(security_protocol=protocol))

    assert ("ssl_context" in options) is has_ssl
    assert "sasl_mechanism" not in options


def new_sink(**overrides: float) -> KafkaSink:
    limits = {"produce_timeout_s": 5.0, "linger_ms": 1.0, "max_in_flight": 100} | overrides
    return KafkaSink(
        KafkaSettings(topic=TOPIC),
        produce_timeout_s=limits["produce_timeout_s"],
        linger_ms=limits["linger_ms"],
        max_in_flight=int(limits["max_in_flight"]),
    )


@pytest.fixture
def producer(monkeypatch: pytest.MonkeyPatch) -> FakeProducer:
    fake = FakeProducer(partitions=2)
    monkeypatch.setattr(KafkaSink, "_new_producer", lambda _: fake)
    return fake


@pytest.fixture
async def sink(producer: FakeProducer) -> AsyncIterator[KafkaSink]:
    sink = new_sink(max_in_flight=3)
    await sink.start()
    yield sink
    await sink.stop()


async def test_a_sink_that_never_started_is_not_ready_and_refuses_at_once() -> None:
    sink = new_sink()

    assert sink.ready is False
    with pytest.raises(Unavailable) as error:
        await sink.send([record("0", "a")])

    assert error.value.reason == "kafka is unavailable"


async def test_a_started_sink_is_ready_and_returns_once_kafka_acknowledged(
    sink: KafkaSink, producer: FakeProducer
) -> None:
    assert sink.ready is True

    await sink.send([record("0", "a")])

    assert producer.values() == [[b"a"]]


async def test_events_waiting_past_max_in_flight_are_refused(
    sink: KafkaSink, producer: FakeProducer
) -> None:
    producer.hold = True
    waiting = asyncio.create_task(sink.send([record("0", "a"), record("0", "b")]))
    await asyncio.sleep(0)

    with pytest.raises(Unavailable) as error:
        await sink.send([record("0", "c"), record("0", "d")])
    assert error.value.reason == "too many events waiting for kafka"

    await producer.shipped.wait()
    producer.release()
    await waiting
    # Acknowledged events no longer count: the same request is admitted now.
    producer.hold = False
    await sink.send([record("0", "c"), record("0", "d")])


async def test_a_kafka_error_is_unavailable_with_its_name(
    sink: KafkaSink, producer: FakeProducer
) -> None:
    producer.failing[0] = NotLeaderForPartitionError()

    with pytest.raises(Unavailable) as error:
        await sink.send([record("0", "a")])

    assert error.value.reason == "kafka did not acknowledge: NotLeaderForPartitionError"


async def test_stop_ships_what_requests_handed_over_then_closes_the_producer(
    producer: FakeProducer,
) -> None:
    sink = new_sink(linger_ms=60_000)
    await sink.start()
    waiting = asyncio.create_task(sink.send([record("0", "a")]))
    await asyncio.sleep(0)

    await asyncio.wait_for(sink.stop(), timeout=1.0)

    await waiting
    assert producer.values() == [[b"a"]]
    assert producer.stopped and sink.ready is False
