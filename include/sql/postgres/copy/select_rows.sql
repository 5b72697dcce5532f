SELECT {columns} FROM {source}
