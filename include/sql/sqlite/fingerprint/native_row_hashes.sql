SELECT {key}, ma_native_hash({values}) FROM {table} WHERE {where}
