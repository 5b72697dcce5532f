CAST({col} AS TEXT)
