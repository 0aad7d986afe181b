-- Projections of what the plant expects beside its orders: the expected receipts of purchased
-- material (`receipt_expected`, closed by `material_received` or `receipt_cancelled`) and the
-- attendance of pool members (`member_attendance`), one row per pool. Derived data like the
-- other projections: dropping `projection_version` makes the store rebuild them from the log.

CREATE TABLE receipts (
    id       TEXT NOT NULL UNIQUE,
    material TEXT NOT NULL,
    body     TEXT NOT NULL
);
CREATE INDEX receipts_material ON receipts (material);

CREATE TABLE attendance (
    id   TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);

DELETE FROM counters WHERE name = 'projection_version';
