-- mixplane store, schema version 1.
--
-- `plants`, `events` and `audit` are the record: plant versions, the append-only event log and
-- the hash-chained audit trail. Everything else is a projection that `rebuild_projections`
-- can rewrite from the log at any time.

-- Every plant document ever put, newest last. `start` is the instant the initial state starts at.
CREATE TABLE plants (
    version    INTEGER PRIMARY KEY AUTOINCREMENT,
    body       TEXT    NOT NULL,
    start      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- The append-only event log. `body` is the canonical JSON of the event (what idempotent ingest
-- compares); `time` is the plant time of the event and `recorded_at` when it was stored, both
-- in milliseconds since the Unix epoch.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL,
    time        INTEGER NOT NULL,
    source      TEXT,
    body        TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX events_time ON events (time);

-- Projections of the folded state. `body` is the JSON of the model's state type.
CREATE TABLE orders (
    id       TEXT    PRIMARY KEY,
    mode     TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    due      INTEGER NOT NULL,
    priority TEXT    NOT NULL,
    body     TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX orders_mode_status ON orders (mode, status);

CREATE TABLE units (
    id    TEXT    PRIMARY KEY,
    state TEXT    NOT NULL,
    since INTEGER NOT NULL,
    body  TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE lots (
    id       TEXT PRIMARY KEY,
    material TEXT NOT NULL,
    body     TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE serials (
    id       TEXT PRIMARY KEY,
    material TEXT NOT NULL,
    body     TEXT NOT NULL
) WITHOUT ROWID;

-- Named integers: `quality:<characteristic>` result counts, `events_applied`, `clock`
-- (ms of the latest event), `projection_seq` (last log seq folded into the projections) and
-- `projection_version` (layout of the projection tables).
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- The audit trail: one record per write, each hashed over its predecessor's hash.
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor_kind TEXT    NOT NULL,
    actor_id   TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);
