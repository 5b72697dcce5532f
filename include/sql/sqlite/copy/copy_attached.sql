-- The whole table in one statement: SQLite copies the values itself, none passes through Python.
INSERT INTO {target} ({columns}) SELECT {columns} FROM {source}
