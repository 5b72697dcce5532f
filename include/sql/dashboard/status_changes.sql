-- Dashboard: status changes of one schema per audit run, for the newest runs within the
-- window (status over time).
-- Walking back from the current counts, run by run, gives the count per status after each run.
WITH runs AS (
    SELECT COALESCE(run_id, '') AS run_key, MAX(event_ts) AS run_ts, MAX(event_id) AS run_seq
    FROM {history}
    WHERE table_schema = :schema
      AND event_type IN ('init', 'refresh')
      AND event_ts >= :since
    GROUP BY COALESCE(run_id, '')
    ORDER BY MAX(event_ts) DESC, MAX(event_id) DESC
    LIMIT :runs
)
SELECT r.run_key, r.run_ts, r.run_seq, h.old_status, h.new_status, COUNT(*) AS tables
FROM {history} AS h
JOIN runs AS r ON r.run_key = COALESCE(h.run_id, '')
WHERE h.table_schema = :schema
  AND h.event_type IN ('init', 'refresh')
  AND h.event_ts >= :since
GROUP BY r.run_key, r.run_ts, r.run_seq, h.old_status, h.new_status
