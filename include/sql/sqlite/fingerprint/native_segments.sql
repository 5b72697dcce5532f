SELECT {segment} AS seg, COALESCE(ma_native_fingerprint({values}), 'native:0:0') FROM {table} WHERE {where} GROUP BY seg
