"""Every analyst view on modern ClickHouse gives the answers it gives on 18.16."""

from __future__ import annotations

import pytest

from clickstream.envelope import SCHEMA_VERSION
from tests.modern.engine import ModernClickHouse
from tests.views_cases import DATA, VIEW_CASES, ViewCase


@pytest.mark.parametrize("case", VIEW_CASES, ids=lambda case: case.view)
def test_view(clickhouse: ModernClickHouse, loaded: str, case: ViewCase) -> None:
    assert clickhouse.execute(case.sql.format(db=loaded)) == case.expected


def test_every_event_is_stored_once(clickhouse: ModernClickHouse, loaded: str) -> None:
    sent = sorted(event["event_id"] for event in DATA)
    stored = clickhouse.execute(
        f"SELECT toString(event_id) FROM {loaded}.events FINAL ORDER BY event_id"
    )
    assert sorted(row[0] for row in stored) == sent


def test_the_envelope_columns_arrive_as_sent(clickhouse: ModernClickHouse, loaded: str) -> None:
    # One event end to end: a parse that drifted on modern ClickHouse (time
    # zone, visitParam*) would change a column without changing the views' counts.
    body = DATA[0]
    rows = clickhouse.execute(
        f"SELECT event_type, toString(event_time), toString(received_at), user_id, element, "
        f"page_url, country, device, schema_version FROM {loaded}.events FINAL "
        "WHERE event_id = {id:UUID}",
        {"id": body["event_id"]},
    )
    assert rows == [
        (
            "click",
            "2024-10-03 09:00:00",
            "2024-10-03 12:00:00",
            body["user_id"],
            body["element"],
            body["page_url"],
            body["country"],
            body["device"],
            SCHEMA_VERSION,
        )
    ]


def test_every_table_and_view_answers(clickhouse: ModernClickHouse, loaded: str) -> None:
    """Whatever later migrations add (rollups, views) is at least readable, analyzer on."""
    names = [
        row[0]
        for row in clickhouse.execute(
            "SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name",
            {"db": loaded},
        )
    ]
    assert {case.view for case in VIEW_CASES} <= set(names)
    for name in names:
        clickhouse.execute(f"SELECT * FROM {loaded}.{name} FORMAT Null")
