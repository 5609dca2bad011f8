"""What of the Kafka sink can be checked without Kafka: options and failing fast."""

from __future__ import annotations

import ssl
import uuid

import pytest
from pydantic import SecretStr

from clickstream.config import ApiSettings, KafkaSettings
from clickstream.errors import Unavailable
from clickstream.events import Record
from clickstream.kafka import kafka_client_options
from clickstream.producer import KafkaSink


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


async def test_a_sink_that_never_started_is_not_ready_and_refuses_at_once() -> None:
    sink = KafkaSink(KafkaSettings(), ApiSettings())
    record = Record(
        key=b"k", value=b"{}", headers=[], event_id=uuid.UUID(int=0), event_type="click"
    )

    assert sink.ready is False
    with pytest.raises(Unavailable) as error:
        await sink.send([record])

    assert error.value.reason == "kafka is unavailable"
