-- One fingerprint per bisection segment, in one scan and one Python call per row (see table.sql).
SELECT {segment} AS seg, COALESCE(ma_fingerprint_row({row}), '0:0:0:0:0') FROM {table} WHERE {where} GROUP BY seg
