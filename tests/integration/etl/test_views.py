"""Each analyst view answers its business question on a hand-computed data set.

The data and the expected rows live in tests/views_cases.py, shared with the
modern-ClickHouse tier (tests/modern), so both engines are held to one answer.
"""

from __future__ import annotations

import pytest

from clickstream.config import Settings
from tests.integration.pipeline import api_client, post_events, query, running_etl, wait_for_ids
from tests.views_cases import DATA, RETRIED, VIEW_CASES, ViewCase


@pytest.fixture
async def loaded(settings: Settings) -> Settings:
    async with api_client(settings) as client, running_etl(settings):
        ids = await post_events(client, DATA)
        await post_events(client, RETRIED)
        await wait_for_ids(settings, set(ids))
    return settings


@pytest.mark.parametrize("case", VIEW_CASES, ids=lambda case: case.view)
async def test_view(loaded: Settings, case: ViewCase) -> None:
    rows = await query(loaded, case.sql.format(db=loaded.clickhouse.database))
    assert rows == case.expected
