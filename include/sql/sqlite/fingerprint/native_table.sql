-- Same-engine fingerprint in one Python call per row: count and sum of a 64-bit BLAKE2b of each row's
-- values (dialects/sqlite_functions.NativeFingerprint; deterministic across processes).
SELECT COALESCE(ma_native_fingerprint({values}), 'native:0:0') FROM {table} WHERE {where}
