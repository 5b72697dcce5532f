-- Dashboard: status changes per (schema, audit run), for the newest of them within
-- the window (status over time).
WITH runs AS (
    SELECT table_schema, COALESCE(run_id, '') AS run_key, MAX(event_ts) AS run_ts, MAX(event_id) AS run_seq
    FROM {history}
    WHERE event_type IN ('init', 'refresh')
      AND event_ts >= :since
    GROUP BY table_schema, COALESCE(run_id, '')
    ORDER BY MAX(event_ts) DESC, MAX(event_id) DESC
    LIMIT :runs
)
SELECT r.table_schema, r.run_key, r.run_ts, r.run_seq, h.old_status, h.new_status, COUNT(*) AS tables
FROM {history} AS h
JOIN runs AS r ON r.table_schema = h.table_schema AND r.run_key = COALESCE(h.run_id, '')
WHERE h.event_type IN ('init', 'refresh')
  AND h.event_ts >= :since
GROUP BY r.table_schema, r.run_key, r.run_ts, r.run_seq, h.old_status, h.new_status
