SELECT COUNT(*) FROM {table} WHERE {where}
