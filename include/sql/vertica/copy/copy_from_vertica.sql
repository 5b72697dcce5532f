-- Server-side copy: the target cluster pulls the rows from the source; none pass through the worker.
-- NO COMMIT keeps it in the transaction opened by clear_target.sql (DELETE), committed by the caller.
COPY {target} ({columns}) FROM VERTICA {source_database}.{source_schema}.{source_table} ({columns}) NO COMMIT
