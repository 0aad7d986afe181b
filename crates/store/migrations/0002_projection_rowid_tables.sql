-- Projection tables become rowid tables with a unique id.
--
-- Their rows are large (the JSON of an order is ~450 bytes), which WITHOUT ROWID tables store
-- in the key b-tree itself; updates then dirty pages all over the tree. As rowid tables, rows
-- sit in insertion order, so the orders, lots and serials that a batch touches (mostly recent
-- ones) share pages, and updates leave the id index alone.
--
-- Projections are derived data: the store sees `projection_version` missing from `counters`
-- and rebuilds them from the event log at open.

DROP TABLE orders;
DROP TABLE units;
DROP TABLE lots;
DROP TABLE serials;
DELETE FROM counters WHERE name = 'projection_version';

CREATE TABLE orders (
    id       TEXT    NOT NULL UNIQUE,
    mode     TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    due      INTEGER NOT NULL,
    priority TEXT    NOT NULL,
    body     TEXT    NOT NULL
);
CREATE INDEX orders_mode_status ON orders (mode, status);

CREATE TABLE units (
    id    TEXT    NOT NULL UNIQUE,
    state TEXT    NOT NULL,
    since INTEGER NOT NULL,
    body  TEXT    NOT NULL
);

CREATE TABLE lots (
    id       TEXT NOT NULL UNIQUE,
    material TEXT NOT NULL,
    body     TEXT NOT NULL
);

CREATE TABLE serials (
    id       TEXT NOT NULL UNIQUE,
    material TEXT NOT NULL,
    body     TEXT NOT NULL
);
