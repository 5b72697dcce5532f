SELECT {key}, HASH({values}) FROM {table} WHERE {where}
