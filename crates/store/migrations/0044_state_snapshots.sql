-- Snapshots of the folded state, so that opening a store folds only the events after the
-- latest one instead of the whole log (`store::snapshot`).
--
-- A snapshot is a cache, not part of the record: it can be deleted at any time, and one that
-- does not match the log (another plant version, an event at `seq` with another id, another
-- state layout, a body whose digest differs) is ignored and the log replayed in full.
-- `seq` is the last event folded into it, `event_id` that event's id, `events` the number of
-- events in the log up to it, `layout` the fingerprint of the state's layout and encoding,
-- `digest` the SHA-256 of `body` (the encoded `PlantState`). A reset of the log deletes them.
CREATE TABLE state_snapshots (
    seq           INTEGER PRIMARY KEY,
    plant_version INTEGER NOT NULL,
    event_id      TEXT    NOT NULL,
    events        INTEGER NOT NULL,
    layout        TEXT    NOT NULL,
    digest        TEXT    NOT NULL,
    body          BLOB    NOT NULL,
    created_at    INTEGER NOT NULL
);
