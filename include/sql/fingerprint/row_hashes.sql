SELECT {key}, MD5({row}) FROM {table} WHERE {where}
