LOWER(HEX({col}))
