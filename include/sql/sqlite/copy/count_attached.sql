-- Rows read: the source table's count, in the same transaction (and the same snapshot) as the insert.
SELECT COUNT(*) FROM {source}
