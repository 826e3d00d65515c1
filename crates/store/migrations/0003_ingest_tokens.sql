-- Version 3: ingestion tokens, write-only to one collected service.
-- SQLite cannot change a CHECK, so the table is rebuilt.
CREATE TABLE tokens_v3 (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    -- SHA-256 of the token, hex; the token itself is never stored.
    hash       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('read', 'admin', 'ingest')),
    -- The service an ingest token may write to (only those have one).
    service    TEXT CHECK ((role = 'ingest') = (service IS NOT NULL)),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
INSERT INTO tokens_v3 (id, name, hash, role, created_at, revoked_at)
    SELECT id, name, hash, role, created_at, revoked_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_v3 RENAME TO tokens;
