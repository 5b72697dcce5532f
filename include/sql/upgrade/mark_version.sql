-- Run under the store lock, after reading the version again: one row per version reached.
INSERT INTO {version} (version, applied_at, provider_version, description)
VALUES (:version, :now, :provider_version, :description)
