SELECT COALESCE(ma_fingerprint({row}), '0:0:0:0:0') FROM {table} WHERE {where}
