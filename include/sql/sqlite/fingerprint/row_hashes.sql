SELECT {key}, ma_md5({row}) FROM {table} WHERE {where}
