INSERT INTO {target} ({columns}) VALUES ({markers})
