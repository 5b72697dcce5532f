-- 0.1.0's first layout (a427c4c) -> fingerprints (379c00a): content fingerprints on the audit row
-- and where a mismatch lies in the history. Nullable columns only: every row kept.
ALTER TABLE {audit} ADD COLUMN src_fingerprint VARCHAR(128);
ALTER TABLE {audit} ADD COLUMN tgt_fingerprint VARCHAR(128);
ALTER TABLE {audit} ADD COLUMN fingerprinted_at TIMESTAMP;
ALTER TABLE {history} ADD COLUMN detail VARCHAR(4000)
