SELECT {key}, {values} FROM {table} WHERE {where}
