-- Quality enforcement: alerts, holds and nonconformances (NCs) with their transition history,
-- and the enforcer's cursor into the event log. Every write to these tables goes through the
-- store's audited write path (one chained audit record in the same transaction).

-- The enforcer's position: the last log seq whose quality results it has judged, the id of
-- that event (to notice a log that was reset), and its running state (charts, phase-I points)
-- as JSON, so enforcement resumes after a restart exactly where it stopped.
CREATE TABLE quality_enforcer (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    cursor_seq     INTEGER NOT NULL,
    cursor_event   TEXT,
    policy_version TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- Alerts raised by the enforcer; `body` is the JSON of `quality::enforce::Alert`.
CREATE TABLE quality_alerts (
    id             TEXT    PRIMARY KEY,
    n              INTEGER NOT NULL UNIQUE,
    characteristic TEXT    NOT NULL,
    severity       TEXT    NOT NULL,
    phase          INTEGER NOT NULL,
    at             INTEGER NOT NULL,
    body           TEXT    NOT NULL
);
CREATE INDEX quality_alerts_characteristic ON quality_alerts (characteristic, n);

-- Holds on lots, serials and orders, placed by policy (`alert_id` set) or by a person;
-- active while `released_at` is null.
CREATE TABLE quality_holds (
    id             TEXT    PRIMARY KEY,
    n              INTEGER NOT NULL UNIQUE,
    item_kind      TEXT    NOT NULL,
    item_id        TEXT    NOT NULL,
    link           TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    alert_id       TEXT,
    placed_by      TEXT    NOT NULL,
    placed_at      INTEGER NOT NULL,
    released_by    TEXT,
    released_at    INTEGER,
    release_reason TEXT
);
CREATE INDEX quality_holds_item ON quality_holds (item_kind, item_id);

-- Nonconformances; `body` is the JSON of `quality::nc::Nonconformance` and `version` guards
-- against two concurrent transitions.
CREATE TABLE quality_ncs (
    id             TEXT    PRIMARY KEY,
    n              INTEGER NOT NULL UNIQUE,
    state          TEXT    NOT NULL,
    characteristic TEXT,
    alert_id       TEXT,
    opened_at      INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    body           TEXT    NOT NULL
);
CREATE INDEX quality_ncs_state ON quality_ncs (state);

-- The items an NC concerns (`lot:ID`, `serial:ID`, `order:ID`), for the release gate.
CREATE TABLE quality_nc_items (
    nc_id TEXT NOT NULL REFERENCES quality_ncs (id) ON DELETE CASCADE,
    item  TEXT NOT NULL,
    PRIMARY KEY (nc_id, item)
) WITHOUT ROWID;
CREATE INDEX quality_nc_items_item ON quality_nc_items (item);

-- Every transition of every NC, in order: who did what when.
CREATE TABLE quality_nc_transitions (
    nc_id      TEXT    NOT NULL REFERENCES quality_ncs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    by_actor   TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    detail     TEXT,
    PRIMARY KEY (nc_id, seq)
) WITHOUT ROWID;
