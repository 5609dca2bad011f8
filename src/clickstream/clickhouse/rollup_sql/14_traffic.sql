-- rollup_traffic by hour: hour, event_type, events, anonymous_events
SELECT
    toStartOfHour(event_time) AS hour,
    event_type,
    count() AS events,
    countIf(user_id = '') AS anonymous_events
FROM ${database}.events FINAL
WHERE 1${where}
GROUP BY hour, event_type
