"""The development stack's settings: the `CLICKSTREAM_LOCAL__*` variables of old."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from clickstream_local.settings import LocalSettings


def test_defaults_are_the_documented_ports() -> None:
    local = LocalSettings()

    assert local.topology == "single"
    assert (local.api_port, local.kafka_port, local.clickhouse_port) == (8000, 9092, 9000)
    assert (local.clickhouse_http_port, local.zookeeper_port) == (8123, 2181)
    assert local.state_dir == Path(".cache/local")


# The names the chaos suite (tests/chaos/cluster.py) and the README use.
@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("CLICKSTREAM_LOCAL__STATE_DIR", "/tmp/x", "state_dir", Path("/tmp/x")),
        ("CLICKSTREAM_LOCAL__API_PORT", "18000", "api_port", 18000),
        ("CLICKSTREAM_LOCAL__KAFKA_PORT", "19092", "kafka_port", 19092),
        ("CLICKSTREAM_LOCAL__CLICKHOUSE_PORT", "19000", "clickhouse_port", 19000),
        ("CLICKSTREAM_LOCAL__CLICKHOUSE_HTTP_PORT", "18123", "clickhouse_http_port", 18123),
        ("CLICKSTREAM_LOCAL__ZOOKEEPER_PORT", "12181", "zookeeper_port", 12181),
        ("CLICKSTREAM_LOCAL__ETL_METRICS_PORT", "19108", "etl_metrics_port", 19108),
        ("CLICKSTREAM_LOCAL__TOPOLOGY", "cluster", "topology", "cluster"),
        ("clickstream_local__partitions", "3", "partitions", 3),
    ],
)
def test_the_same_environment_variables_as_before_are_read(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: object
) -> None:
    monkeypatch.setenv(variable, value)

    read = getattr(LocalSettings(), field)

    assert read == expected
    assert type(read) is type(expected)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLICKSTREAM_LOCAL__TOPOLOGY", "galaxy"),
        ("CLICKSTREAM_LOCAL__API_PORT", "eighty"),
        ("CLICKSTREAM_LOCAL__PARTITIONS", "0"),
        ("CLICKSTREAM_LOCAL__KAFKA_PROT", "19092"),
    ],
)
def test_invalid_or_mistyped_variables_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError):
        LocalSettings()


def test_product_variables_are_not_the_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKSTREAM_API__PORT", "1234")
    monkeypatch.setenv("CLICKSTREAM_KAFKA__TOPIC", "x")

    assert LocalSettings().api_port == 8000
