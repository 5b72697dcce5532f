SELECT name FROM pragma_table_info(:table, :schema) ORDER BY cid
