-- The plan in force and the plans proposals carry, schedule version 40.
--
-- `plan_versions` numbers every plan that was put in force, from 1; the highest version is the
-- plan in force. A version is never changed: a new plan, or a rollback to an older one, is a
-- new version. `body` is the JSON of the version (its provenance, horizon, schedule and KPIs);
-- the other columns serve lookups. `basis` is the version it replaced.
CREATE TABLE plan_versions (
    version  INTEGER PRIMARY KEY,
    made_at  INTEGER NOT NULL,
    made_by  TEXT    NOT NULL,
    proposal TEXT,
    basis    INTEGER,
    body     TEXT    NOT NULL
);
CREATE INDEX plan_versions_proposal ON plan_versions (proposal);

-- The candidate plan a proposal carries (its schedule, the problem it was checked against,
-- its alternatives), keyed by proposal; `basis` is the version in force it started from
-- (NULL: none was). It becomes a plan version when the proposal is applied.
CREATE TABLE plan_candidates (
    proposal_id TEXT    PRIMARY KEY REFERENCES proposals (id) ON DELETE CASCADE,
    basis       INTEGER,
    created_at  INTEGER NOT NULL,
    body        TEXT    NOT NULL
) WITHOUT ROWID;
