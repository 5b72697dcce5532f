-- DELETE rather than TRUNCATE: readers keep seeing the old rows until the copy commits (TRUNCATE
-- would block them for the whole copy); on an empty target (the usual case) it costs nothing.
DELETE FROM {target}
