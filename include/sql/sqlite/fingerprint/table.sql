-- The table's (or key range's) fingerprint in one Python call per row: the row slot holds a spec and the row's
-- values (dialects/sqlite_functions.row_arguments), not a canonical row text.
SELECT COALESCE(ma_fingerprint_row({row}), '0:0:0:0:0') FROM {table} WHERE {where}
