-- Rows streamed by the worker, encoded as vertica-python's own executemany encodes them: fields
-- separated by |, values enclosed in single quotes with \ escaping, NULL as an empty unenclosed field.
-- ABORT ON ERROR: one bad row fails the load instead of being rejected silently.
-- NO COMMIT: the load joins the transaction of clear_target.sql (DELETE) and commits with it.
COPY {target} ({columns}) FROM STDIN ABORT ON ERROR DELIMITER '|' ENCLOSED BY '''' ENFORCELENGTH NO COMMIT
