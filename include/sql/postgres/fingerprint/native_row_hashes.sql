SELECT {key}, hash_record_extended(ROW({values}), 0) FROM {table} WHERE {where}
