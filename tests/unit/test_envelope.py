"""The declared envelope against its three readers and writers: the models, the SQL, the ETL."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, get_args

import orjson
import pytest
from pydantic import BaseModel

from clickstream import events
from clickstream.clickhouse.migrations import Migration, load
from clickstream.envelope import ENVELOPE, Kind

MIGRATIONS = load()
EXTRACTED = re.compile(r"visitParam\w+\(envelope, '(\w+)'\)")
ALIAS = re.compile(r"\bAS (\w+)\s*(?:,|$)", re.MULTILINE)
TABLE_COLUMN = re.compile(r"^\s+(\w+) (\w+(?:\('UTC'\))?),?$", re.MULTILINE)
ADDED_COLUMN = re.compile(r"ADD COLUMN (\w+) ([^,\n]+)")


def without_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def mentioning(pattern: str) -> list[Migration]:
    return [m for m in MIGRATIONS if re.search(pattern, without_comments(m.template))]


def current_view() -> str:
    """The SELECT of the ingest view as the migrations leave it."""
    last = mentioning(r"\.events_ingest_mv\b")[-1]
    sql = without_comments(last.template)
    assert "CREATE MATERIALIZED VIEW" in sql, f"{last.name} leaves no ingest view"
    return sql.split("AS SELECT", 1)[1].split("\nFROM ", 1)[0]


def columns_of(table: str) -> dict[str, str]:
    """Column -> type of `table` after every migration (created, then ALTER ... ADD COLUMN)."""
    (created,) = mentioning(rf"CREATE TABLE IF NOT EXISTS \$\{{database\}}\.{table} ")
    columns = dict(TABLE_COLUMN.findall(without_comments(created.template)))
    for migration in mentioning(rf"ALTER TABLE \$\{{database\}}\.{table} "):
        columns.update(ADDED_COLUMN.findall(without_comments(migration.template)))
    return columns


def test_the_view_reads_every_envelope_field_and_nothing_else() -> None:
    extracted = set(EXTRACTED.findall(current_view()))

    assert extracted == {field.name for field in ENVELOPE.fields}


def test_the_view_fills_every_envelope_column_and_nothing_else() -> None:
    aliases = ALIAS.findall(current_view())

    assert sorted(aliases) == sorted({field.column for field in ENVELOPE.fields})


def test_the_view_fills_exactly_the_storage_tables_columns() -> None:
    aliases = set(ALIAS.findall(current_view()))

    assert aliases == set(columns_of("events_local"))


def test_the_distributed_table_gets_every_column_added_to_the_storage_table() -> None:
    added_local = [
        ADDED_COLUMN.findall(without_comments(m.template))
        for m in mentioning(r"ALTER TABLE \$\{database\}\.events_local ")
    ]
    added_distributed = [
        ADDED_COLUMN.findall(without_comments(m.template))
        for m in mentioning(r"ALTER TABLE \$\{database\}\.events ")
    ]

    assert added_distributed == added_local


def test_every_event_field_is_declared_in_the_envelope() -> None:
    declared = {field.name for field in ENVELOPE.fields}
    (union, _) = get_args(events.Event)
    models: tuple[type[BaseModel], ...] = get_args(union)

    assert len(models) == len(events.EVENT_TYPES)
    for model in models:
        assert set(model.model_fields) - {"event_id"} <= declared, model.__name__


@pytest.mark.parametrize("kind", list(events.EXAMPLES))
def test_records_carry_declared_fields_only_and_every_required_one(kind: str) -> None:
    parsed = events.single_request.validate_json(
        orjson.dumps({"event": events.EXAMPLES[kind]})
    ).event
    record = events.to_record(
        parsed, event_id=uuid.uuid4(), received_at=datetime(2024, 10, 3, 14, 30, 1, tzinfo=UTC)
    )
    document: dict[str, Any] = orjson.loads(record.value)

    assert set(document) <= {field.name for field in ENVELOPE.fields}
    assert {f.name for f in ENVELOPE.fields if f.required} <= set(document)
    assert document["schema_version"] == ENVELOPE.version


def test_the_event_type_choices_are_the_models_types() -> None:
    assert ENVELOPE.field("event_type").choices == frozenset(events.EVENT_TYPES)


def test_times_and_ids_are_declared_with_the_kind_the_view_parses() -> None:
    view = current_view()

    for field in ENVELOPE.fields:
        if field.kind is Kind.UUID:
            assert f"toUUID(visitParamExtractString(envelope, '{field.name}'))" in view
        if field.kind is Kind.TIME:
            assert re.search(
                rf"parseDateTimeBestEffort\([^)]*visitParamExtractString\(envelope, "
                rf"'{field.name}'\)",
                view,
            ), field.name


def test_the_view_stores_the_corrected_time_and_falls_back_to_a_version_1_timestamp() -> None:
    extract = "visitParamExtractString(envelope, '{}')".format
    expected = (
        f"parseDateTimeBestEffort(if(empty({extract('event_time')}), "
        f"{extract('timestamp')}, {extract('event_time')})) AS event_time"
    )

    assert expected in " ".join(current_view().split()).replace("( ", "(")


EXTRACTORS = {
    Kind.TEXT: ("String",),
    Kind.UUID: ("String",),
    Kind.TIME: ("String",),
    Kind.INT: ("UInt", "Float"),
    Kind.FLOAT: ("Float",),
    Kind.BOOL: ("Bool",),
}


def test_each_field_is_read_as_its_kind() -> None:
    extractors = re.findall(r"visitParamExtract(\w+)\(envelope, '(\w+)'\)", current_view())

    for extractor, name in extractors:
        assert extractor in EXTRACTORS[ENVELOPE.field(name).kind], name
