-- Each row's key and MD5 at a bisection leaf, in one Python call per row (see table.sql).
SELECT {key}, ma_row_md5({row}) FROM {table} WHERE {where}
