SELECT DISTINCT table_schema FROM {audit} ORDER BY table_schema
