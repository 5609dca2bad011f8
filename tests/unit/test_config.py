"""Settings: read once from CLICKSTREAM_* variables, nested with `__`, frozen."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from clickstream.config import Settings


def test_defaults_without_environment() -> None:
    settings = Settings()

    assert settings.kafka.topic == "clickstream.events"
    assert settings.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert settings.api.max_body_bytes == 1024 * 1024
    assert settings.clickhouse.replicated is False
    assert settings.etl.batch_max_rows == 25_000


@pytest.mark.parametrize(
    ("variable", "value", "path", "expected"),
    [
        ("CLICKSTREAM_KAFKA__TOPIC", "test.events", "kafka.topic", "test.events"),
        ("CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS", "a:1,b:2", "kafka.bootstrap_servers", "a:1,b:2"),
        ("CLICKSTREAM_KAFKA__DLQ_TOPIC", "dead", "kafka.dlq_topic", "dead"),
        ("CLICKSTREAM_KAFKA__SECURITY_PROTOCOL", "SASL_SSL", "kafka.security_protocol", "SASL_SSL"),
        ("CLICKSTREAM_API__MAX_BODY_BYTES", "2048", "api.max_body_bytes", 2048),
        ("CLICKSTREAM_API__PRODUCE_TIMEOUT_S", "0.5", "api.produce_timeout_s", 0.5),
        (
            "CLICKSTREAM_API__CORS_ALLOW_ORIGINS",
            '["https://a.example"]',
            "api.cors_allow_origins",
            ["https://a.example"],
        ),
        ("CLICKSTREAM_CLICKHOUSE__REPLICATED", "true", "clickhouse.replicated", True),
        ("CLICKSTREAM_CLICKHOUSE__DATABASE", "analytics", "clickhouse.database", "analytics"),
        ("CLICKSTREAM_ETL__BATCH_MAX_WAIT_S", "0.25", "etl.batch_max_wait_s", 0.25),
        ("CLICKSTREAM_ETL__GROUP_ID", "g", "etl.group_id", "g"),
        ("CLICKSTREAM_LOG_LEVEL", "DEBUG", "log_level", "DEBUG"),
        ("clickstream_kafka__topic", "lower", "kafka.topic", "lower"),
    ],
)
def test_environment_variables_are_read(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, path: str, expected: object
) -> None:
    monkeypatch.setenv(variable, value)

    read: object = Settings()
    for name in path.split("."):
        read = getattr(read, name)

    assert read == expected
    assert type(read) is type(expected)


def test_one_nested_variable_keeps_the_rest_of_its_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKSTREAM_KAFKA__TOPIC", "test.events")

    settings = Settings()

    assert settings.kafka.topic == "test.events"
    assert settings.kafka.dlq_topic == "clickstream.events.dlq"
    assert settings.kafka.bootstrap_servers == "127.0.0.1:9092"


def test_secrets_are_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKSTREAM_KAFKA__SASL_PASSWORD", "hunter2")
    monkeypatch.setenv("CLICKSTREAM_CLICKHOUSE__PASSWORD", "swordfish")

    settings = Settings()

    assert isinstance(settings.kafka.sasl_password, SecretStr)
    assert settings.kafka.sasl_password.get_secret_value() == "hunter2"
    assert settings.clickhouse.password.get_secret_value() == "swordfish"
    assert "hunter2" not in repr(settings)
    assert "swordfish" not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLICKSTREAM_ETL__BATCH_MAX_ROWS", "0"),
        ("CLICKSTREAM_API__MAX_BODY_BYTES", "many"),
        ("CLICKSTREAM_API__PRODUCE_TIMEOUT_S", "0"),
        ("CLICKSTREAM_KAFKA__SECURITY_PROTOCOL", "TLS"),
        ("CLICKSTREAM_LOG_FORMAT", "xml"),
        ("CLICKSTREAM_KAFKA__NO_SUCH_OPTION", "1"),
    ],
)
def test_invalid_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError):
        Settings()


def test_unrelated_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKSTREAM_NOT_A_SETTING", "1")
    monkeypatch.setenv("KAFKA__TOPIC", "unprefixed")

    assert Settings().kafka.topic == "clickstream.events"


def test_the_local_stacks_variables_are_not_production_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dev stack (clickstream_local) reads these; the product must not know them."""
    monkeypatch.setenv("CLICKSTREAM_LOCAL__API_PORT", "18000")
    monkeypatch.setenv("CLICKSTREAM_LOCAL__TOPOLOGY", "galaxy")

    settings = Settings()

    assert "local" not in Settings.model_fields
    assert "18000" not in repr(settings)


def test_settings_are_frozen() -> None:
    settings = Settings()

    with pytest.raises(ValidationError):
        settings.log_level = "DEBUG"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        settings.kafka.topic = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        settings.api.max_body_bytes = 1  # type: ignore[misc]
    assert settings.kafka.topic == "clickstream.events"


def test_settings_are_read_when_built_not_later(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()

    monkeypatch.setenv("CLICKSTREAM_KAFKA__TOPIC", "later")

    assert settings.kafka.topic == "clickstream.events"
    assert Settings().kafka.topic == "later"
