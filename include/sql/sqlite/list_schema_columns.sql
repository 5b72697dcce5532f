-- Every column of every table of one schema (an attached database), in one catalog read.
-- SQLite keeps the declared type as written (sizes inside it); a primary-key column counts as NOT NULL.
SELECT t.name AS table_name, c.name AS column_name, c.type AS data_type, NULL AS char_length,
       NULL AS num_precision, NULL AS num_scale,
       CASE WHEN c."notnull" OR c.pk > 0 THEN 'NO' ELSE 'YES' END AS nullable
FROM pragma_table_list AS t
JOIN pragma_table_info(t.name, t.schema) AS c
WHERE t.schema = :schema AND t.type = 'table' AND t.name NOT LIKE 'sqlite!_%' ESCAPE '!'
ORDER BY t.name, c.cid
