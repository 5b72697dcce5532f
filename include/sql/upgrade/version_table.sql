-- The store's schema version: one row per layout the store has been brought to (never deleted).
-- The store's version is the highest; store_versions.STORE_VERSION is what this provider writes.
CREATE TABLE IF NOT EXISTS {version} (
    version          INTEGER      NOT NULL,
    applied_at       TIMESTAMP    NOT NULL,
    provider_version VARCHAR(32),
    description      VARCHAR(200)
)
