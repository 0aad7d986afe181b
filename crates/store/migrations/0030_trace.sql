-- Genealogy documents imported for traceability (EPCIS 2.0, B2MML), schema version 30.
--
-- `trace_documents` records every document imported, atomically: its rows below and one audit
-- record commit in one transaction or not at all. `sha256` is of the document's canonical
-- content, so importing the same document again is a duplicate.
CREATE TABLE trace_documents (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    format      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL UNIQUE,
    events      INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
);

-- Captured EPCIS events, idempotent by `key` (the eventID; `<eventID>#error` for the event
-- that declares it in error). `body` is the JSON of the normalised event.
CREATE TABLE trace_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT    NOT NULL UNIQUE,
    event_id    TEXT    NOT NULL,
    document    INTEGER NOT NULL REFERENCES trace_documents (seq),
    type        TEXT    NOT NULL,
    event_time  INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    body        TEXT    NOT NULL
);
CREATE INDEX trace_events_time ON trace_events (event_time);

-- Genealogy lowered from documents that carry no EPCIS events (B2MML material actuals): the
-- JSON of the edges and observations.
CREATE TABLE trace_genealogy (
    document INTEGER PRIMARY KEY REFERENCES trace_documents (seq),
    body     TEXT    NOT NULL
);
