-- The PostgreSQL schema of a mixplane store: the same tables, keys and indexes as the SQLite
-- migrations of `../migrations/` reach at version 45, written once for PostgreSQL (BIGINT for
-- SQLite's INTEGER, BYTEA for BLOB, identity columns for AUTOINCREMENT, expression indexes over
-- `body::jsonb` for `json_extract`). Later changes are new files here, numbered on.

CREATE TABLE plants (
    version    BIGINT PRIMARY KEY,
    body       TEXT   NOT NULL,
    start      BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE events (
    seq         BIGINT PRIMARY KEY,
    id          TEXT   NOT NULL UNIQUE,
    type        TEXT   NOT NULL,
    time        BIGINT NOT NULL,
    source      TEXT,
    body        TEXT   NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX events_time ON events (time);
CREATE INDEX events_quality_characteristic_time
    ON events (((body::jsonb) ->> 'characteristic'), time)
    WHERE type = 'quality_result_recorded';
CREATE INDEX events_quality_time ON events (time) WHERE type = 'quality_result_recorded';
CREATE INDEX events_quality_seq ON events (seq) WHERE type = 'quality_result_recorded';
CREATE INDEX events_operation_completed
    ON events (((body::jsonb) ->> 'order'), ((body::jsonb) ->> 'step'), seq)
    WHERE type = 'operation_completed';
CREATE INDEX events_operation_started
    ON events (((body::jsonb) ->> 'order'))
    WHERE type = 'operation_started';

CREATE TABLE counters (
    name  TEXT   PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE audit (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor_kind TEXT   NOT NULL,
    actor_id   TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    detail     TEXT   NOT NULL,
    prev_hash  TEXT   NOT NULL,
    hash       TEXT   NOT NULL
);

CREATE TABLE orders (
    id       TEXT   PRIMARY KEY,
    mode     TEXT   NOT NULL,
    status   TEXT   NOT NULL,
    due      BIGINT NOT NULL,
    priority TEXT   NOT NULL,
    body     TEXT   NOT NULL
);
CREATE INDEX orders_mode_status ON orders (mode, status);

CREATE TABLE units (
    id    TEXT   PRIMARY KEY,
    state TEXT   NOT NULL,
    since BIGINT NOT NULL,
    body  TEXT   NOT NULL
);

CREATE TABLE lots (
    id       TEXT PRIMARY KEY,
    material TEXT NOT NULL,
    body     TEXT NOT NULL
);

CREATE TABLE serials (
    id       TEXT PRIMARY KEY,
    material TEXT NOT NULL,
    body     TEXT NOT NULL
);

CREATE TABLE receipts (
    id       TEXT PRIMARY KEY,
    material TEXT NOT NULL,
    body     TEXT NOT NULL
);
CREATE INDEX receipts_material ON receipts (material);

CREATE TABLE attendance (
    id   TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE quality_enforcer (
    id             BIGINT PRIMARY KEY CHECK (id = 1),
    cursor_seq     BIGINT NOT NULL,
    cursor_event   TEXT,
    policy_version TEXT   NOT NULL,
    state          TEXT   NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE quality_alerts (
    id             TEXT   PRIMARY KEY,
    n              BIGINT NOT NULL UNIQUE,
    characteristic TEXT   NOT NULL,
    severity       TEXT   NOT NULL,
    phase          BIGINT NOT NULL,
    at             BIGINT NOT NULL,
    body           TEXT   NOT NULL
);
CREATE INDEX quality_alerts_characteristic ON quality_alerts (characteristic, n);

CREATE TABLE quality_holds (
    id             TEXT   PRIMARY KEY,
    n              BIGINT NOT NULL UNIQUE,
    item_kind      TEXT   NOT NULL,
    item_id        TEXT   NOT NULL,
    link           TEXT   NOT NULL,
    reason         TEXT   NOT NULL,
    alert_id       TEXT,
    placed_by      TEXT   NOT NULL,
    placed_at      BIGINT NOT NULL,
    released_by    TEXT,
    released_at    BIGINT,
    release_reason TEXT,
    proposal_id    TEXT
);
CREATE INDEX quality_holds_item ON quality_holds (item_kind, item_id);
CREATE INDEX quality_holds_proposal ON quality_holds (proposal_id);

CREATE TABLE quality_ncs (
    id             TEXT   PRIMARY KEY,
    n              BIGINT NOT NULL UNIQUE,
    state          TEXT   NOT NULL,
    characteristic TEXT,
    alert_id       TEXT,
    opened_at      BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL,
    body           TEXT   NOT NULL
);
CREATE INDEX quality_ncs_state ON quality_ncs (state);

CREATE TABLE quality_nc_items (
    nc_id TEXT NOT NULL REFERENCES quality_ncs (id) ON DELETE CASCADE,
    item  TEXT NOT NULL,
    PRIMARY KEY (nc_id, item)
);
CREATE INDEX quality_nc_items_item ON quality_nc_items (item);

CREATE TABLE quality_nc_transitions (
    nc_id      TEXT   NOT NULL REFERENCES quality_ncs (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    action     TEXT   NOT NULL,
    from_state TEXT   NOT NULL,
    to_state   TEXT   NOT NULL,
    by_actor   TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    detail     TEXT,
    PRIMARY KEY (nc_id, seq)
);

CREATE TABLE principals (
    id         TEXT   PRIMARY KEY,
    kind       TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    scope      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE tokens (
    id           TEXT   PRIMARY KEY,
    principal_id TEXT   NOT NULL REFERENCES principals (id),
    hash         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX tokens_principal ON tokens (principal_id);

CREATE TABLE proposals (
    id          TEXT   PRIMARY KEY,
    kind        TEXT   NOT NULL,
    site        TEXT   NOT NULL,
    area        TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    proposed_by TEXT   NOT NULL,
    proposed_at BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    body        TEXT   NOT NULL
);
CREATE INDEX proposals_status ON proposals (status, proposed_at);

CREATE TABLE approvals (
    proposal_id  TEXT   NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    principal_id TEXT   NOT NULL,
    role         TEXT   NOT NULL,
    decision     TEXT   NOT NULL,
    at           BIGINT NOT NULL,
    comment      TEXT,
    PRIMARY KEY (proposal_id, seq)
);

CREATE TABLE governance_keys (
    name       TEXT   PRIMARY KEY,
    value      BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE trace_documents (
    seq         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    format      TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    sha256      TEXT   NOT NULL UNIQUE,
    events      BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
);

CREATE TABLE trace_events (
    seq         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    key         TEXT   NOT NULL UNIQUE,
    event_id    TEXT   NOT NULL,
    document    BIGINT NOT NULL REFERENCES trace_documents (seq),
    type        TEXT   NOT NULL,
    event_time  BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    body        TEXT   NOT NULL
);
CREATE INDEX trace_events_time ON trace_events (event_time);

CREATE TABLE trace_genealogy (
    document BIGINT PRIMARY KEY REFERENCES trace_documents (seq),
    body     TEXT   NOT NULL
);

CREATE TABLE plan_versions (
    version  BIGINT PRIMARY KEY,
    made_at  BIGINT NOT NULL,
    made_by  TEXT   NOT NULL,
    proposal TEXT,
    basis    BIGINT,
    body     TEXT   NOT NULL
);
CREATE INDEX plan_versions_proposal ON plan_versions (proposal);

CREATE TABLE plan_candidates (
    proposal_id TEXT   PRIMARY KEY REFERENCES proposals (id) ON DELETE CASCADE,
    basis       BIGINT,
    created_at  BIGINT NOT NULL,
    body        TEXT   NOT NULL
);

CREATE TABLE connector_cursors (
    connector       TEXT   PRIMARY KEY,
    cursor          TEXT,
    last_event_time BIGINT,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE connector_dead_letters (
    seq       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    connector TEXT   NOT NULL,
    source_id TEXT   NOT NULL,
    reason    TEXT   NOT NULL,
    raw       TEXT   NOT NULL,
    at        BIGINT NOT NULL,
    UNIQUE (connector, source_id)
);

CREATE TABLE state_snapshots (
    seq           BIGINT PRIMARY KEY,
    plant_version BIGINT NOT NULL,
    event_id      TEXT   NOT NULL,
    events        BIGINT NOT NULL,
    layout        TEXT   NOT NULL,
    digest        TEXT   NOT NULL,
    body          BYTEA  NOT NULL,
    created_at    BIGINT NOT NULL
);
