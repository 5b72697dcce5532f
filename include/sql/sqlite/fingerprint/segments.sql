SELECT {segment} AS seg, COALESCE(ma_fingerprint({row}), '0:0:0:0:0') FROM {table} WHERE {where} GROUP BY seg
