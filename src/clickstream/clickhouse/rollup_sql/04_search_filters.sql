-- rollup_search_filters: day, filter_type, filter_value, uses, users
SELECT
    toDate(event_time) AS day,
    filter_type,
    filter_value,
    count() AS uses,
    uniqExactIf(user_id, user_id != '') AS users
FROM ${database}.events FINAL
WHERE event_type = 'search_filter_use'${where}
GROUP BY day, filter_type, filter_value
