"""Connection options for every Kafka client: the API's producer, the ETL's
consumer and dead-letter producer, and admin clients."""

from __future__ import annotations

from typing import Any

from clickstream.config import KafkaSettings


def kafka_client_options(settings: KafkaSettings) -> dict[str, Any]:
    """Bootstrap servers, security and timeouts, as aiokafka's keyword arguments."""
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
