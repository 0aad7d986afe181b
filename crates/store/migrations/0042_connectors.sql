-- Connectors (SPEC C9): where each source resumes, and the records it could not map.
--
-- `connector_cursors` holds one row per connector: the cursor its last stored batch ended at
-- (opaque to the store: a byte offset, a modified-time and id, …), written in the transaction
-- that stored the batch's events, so the cursor never runs ahead of the log. `last_event_time`
-- is the plant time of the newest event stored through it (the connector's lag is measured
-- from it), `updated_at` the time of the write.
CREATE TABLE connector_cursors (
    connector       TEXT    PRIMARY KEY,
    cursor          TEXT,
    last_event_time INTEGER,
    updated_at      INTEGER NOT NULL
) WITHOUT ROWID;

-- A record a connector read but could not map, with the reason and the record as the peer
-- sent it (JSON). A record is dead-lettered once per connector and source id: a replay after a
-- restart finds it stored.
CREATE TABLE connector_dead_letters (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    connector TEXT    NOT NULL,
    source_id TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    raw       TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    UNIQUE (connector, source_id)
);
