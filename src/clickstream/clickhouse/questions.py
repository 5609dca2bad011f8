"""How an analyst question, written once, becomes every statement that asks it.

A question (`Rollup`; the thirteen are `rollups.ROLLUPS`) is one SELECT over
`${events}` (a table read, `FINAL` included) with `${where}` where a time
restriction joins its event filter. From it come:

- the `<name>_raw` view: the whole history through `events FINAL` (the reference);
- the rollup job's build: the same over the days being built (`build_sql`);
- the `<name>` view (`served_sql`, rendered into its migration): the rollup rows
  of the days whose latest build is still fresh, today live from the small
  day-partitioned `events_recent`, and any other stale day live from `events`.

Every question groups by `day` and a day's numbers depend on that day's events
only, so the three parts of a view cover disjoint days and simply add up.

Which days are fresh is `days_sql`: one read of the small `rollup_ledger`
(arrivals per day, builds per rollup and day, erasures per day), the same text
in every part of a view so that modern ClickHouse computes it once per query.
A day is fresh for a rollup when its latest build counted at least the rows
stored for the day by now (a late event makes it stale at once) and started
after the last erasure touching the day finished.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from string import Template

# A date no event reaches: the live part's lower bound when no closed day is stale.
_NEVER = "toDate('2105-12-31')"


def _indent(sql: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line if line else line for line in sql.splitlines())


@dataclass(frozen=True)
class Rollup:
    """One analyst question: view `name`, table `rollup_<name>` (build_id, then `columns`)."""

    name: str
    columns: tuple[str, ...]
    select: str

    @property
    def table(self) -> str:
        return f"rollup_{self.name}"

    def query(self, events: str, where: str = "") -> str:
        """The question over `events` (e.g. `db.events FINAL`), `where` added to each read."""
        return Template(self.select).substitute(events=events, where=where)

    def raw_sql(self, database: str) -> str:
        return self.query(f"{database}.events FINAL")

    def build_sql(self, database: str, days: Iterable[date], build_id: int) -> str:
        """Rebuild `days` in one statement: one read of their partitions, not one per day."""
        chosen = sorted(set(days))
        start, end = chosen[0].isoformat(), (chosen[-1] + timedelta(days=1)).isoformat()
        listed = ", ".join(f"toDate('{day.isoformat()}')" for day in chosen)
        where = (
            f"\n    AND event_time >= toDateTime('{start} 00:00:00', 'UTC')"
            f" AND event_time < toDateTime('{end} 00:00:00', 'UTC')"
            f"\n    AND toDate(event_time) IN ({listed})"
        )
        columns = ", ".join(self.columns)
        return (
            f"INSERT INTO {database}.{self.table} (build_id, {columns})\n"
            f"SELECT toUInt64({build_id}) AS build_id, {columns}\n"
            f"FROM\n(\n{self.query(f'{database}.events FINAL', where)}\n)"
        )

    def days_sql(self, database: str) -> str:
        """(day, build_id) for every day the ledger knows: the build to serve, or 0 (live).

        argMaxIf picks the latest build's numbers; a day without a build has
        latest_build 0, as has a day with rows or an erasure since its build.
        """
        name = f"'{self.name}'"
        return f"""SELECT day, if(fresh, latest_build, toUInt64(0)) AS build_id
FROM
(
    SELECT
        day,
        maxIf(build_id, rollup_name = {name}) AS latest_build,
        latest_build > 0
            AND argMaxIf(rows_seen, build_id, rollup_name = {name}) >= sumMerge(arrived_rows)
            AND max(erased_at) < argMaxIf(started_at, build_id, rollup_name = {name}) AS fresh
    FROM {database}.rollup_ledger
    WHERE rollup_name IN ('', {name})
    GROUP BY day
)"""

    def served_sql(self, database: str) -> str:
        """The body of the `<name>` view."""
        columns = ", ".join(self.columns)
        days = self.days_sql(database)
        recent = self.query(
            f"{database}.events_recent FINAL",
            "\n    AND event_time >= toDateTime(today(), 'UTC')",
        )
        # 18.16 folds the scalar bound before index analysis: months before the
        # first stale day are never read, and none at all when no closed day is stale.
        stale = self.query(
            f"{database}.events FINAL",
            "\n    AND event_time >= (\n"
            f"        SELECT toDateTime(if(count() = 0, {_NEVER}, min(day)), 'UTC')\n"
            f"        FROM\n        (\n{_indent(days, 12)}\n        )\n"
            "        WHERE build_id = 0 AND day < today()\n    )"
            "\n    AND event_time < toDateTime(today(), 'UTC')"
            f"\n    AND (toDate(event_time), toUInt64(0)) IN\n    (\n{_indent(days, 8)}\n    )",
        )
        return (
            f"SELECT {columns}\nFROM {database}.{self.table}\n"
            f"WHERE day < today() AND (day, build_id) IN\n(\n{_indent(days, 4)}\n)\n"
            f"UNION ALL\nSELECT {columns}\nFROM\n(\n{_indent(recent, 4)}\n)\n"
            f"UNION ALL\nSELECT {columns}\nFROM\n(\n{_indent(stale, 4)}\n)"
        )
