SELECT name FROM pragma_table_info(:table, :schema) WHERE pk > 0 ORDER BY pk
