-- Time spent on a page = the gap to the same user's next page view of the same UTC
-- day, when that gap is at most 30 minutes. A longer gap ends the visit: the last page
-- of a visit has no measurable time and is counted in `untimed_views`, not in the
-- averages. Visits are cut at UTC midnight (as sessions are), so one day's numbers
-- depend on that day's events only and a day can be rolled up alone. Anonymous views
-- are left out (no user to follow). ClickHouse 18.16 has no window functions, so each
-- user's views of a day are sorted in an array.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `time_on_page` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.time_on_page_raw ${on_cluster} AS
SELECT
    toDate(viewed_at) AS day,
    page_url,
    count() AS views,
    countIf(seconds >= 0) AS timed_views,
    countIf(seconds < 0) AS untimed_views,
    sumIf(seconds, seconds >= 0) AS total_seconds,
    avgIf(seconds, seconds >= 0) AS avg_seconds,
    quantileExactIf(0.5)(seconds, seconds >= 0) AS median_seconds
FROM
(
    SELECT
        arraySort(groupArray(event_time)) AS times,
        arraySort((page, time) -> time, groupArray(page_url), groupArray(event_time)) AS pages,
        arrayMap(
            i -> if(i < length(times) AND times[i + 1] - times[i] <= 1800,
                    toInt64(times[i + 1]) - toInt64(times[i]), toInt64(-1)),
            arrayEnumerate(times)) AS gaps
    FROM ${database}.events FINAL
    WHERE event_type = 'page_view' AND user_id != ''
    GROUP BY user_id, toDate(event_time)
)
ARRAY JOIN times AS viewed_at, pages AS page_url, gaps AS seconds
GROUP BY day, page_url
