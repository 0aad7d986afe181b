-- Leadership leases (`store::lease`): who runs a plant's once-only work (connectors, agents,
-- the outbox), until when (unix milliseconds, the database's clock), and the epoch that
-- fences an earlier holder's writes.
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    epoch      INTEGER NOT NULL,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
