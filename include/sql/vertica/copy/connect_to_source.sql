-- Open this session's connection to the source cluster, for COPY ... FROM VERTICA.
-- The password and host slots are string literals built by transfers/vertica.py (quotes doubled).
-- This statement is never logged: the driver's logger is silenced for it and errors are scrubbed.
CONNECT TO VERTICA {source_database} USER {source_user} PASSWORD {password} ON {host}, {port}
