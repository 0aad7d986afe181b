-- Governance: principals and their API tokens, proposals and their approvals, and the secret
-- key of the pseudonyms. Every write to these tables goes through the store's audited write
-- path (one audit record in the same transaction), like every other write.

-- People, service accounts and AI agents. `scope` is `*`, `site:ID` or `area:ID`.
CREATE TABLE principals (
    id         TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- API tokens. A token is `mxp_<id>_<secret>`; only the argon2id hash (PHC string) of the whole
-- token is stored, so a copy of the database reveals no usable token.
CREATE TABLE tokens (
    id           TEXT    PRIMARY KEY,
    principal_id TEXT    NOT NULL REFERENCES principals (id),
    hash         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX tokens_principal ON tokens (principal_id);

-- Proposals with their evidence, gate and outcomes (`body`, the JSON of `govern::Proposal`);
-- the other columns serve filters. `version` guards against two concurrent decisions.
CREATE TABLE proposals (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    site        TEXT    NOT NULL,
    area        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    proposed_by TEXT    NOT NULL,
    proposed_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX proposals_status ON proposals (status, proposed_at);

-- Every approval and rejection, in order per proposal.
CREATE TABLE approvals (
    proposal_id  TEXT    NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    principal_id TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    decision     TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    comment      TEXT,
    PRIMARY KEY (proposal_id, seq)
) WITHOUT ROWID;

-- Secret keys: `pseudonym` is the HMAC-SHA256 key of operator pseudonyms.
CREATE TABLE governance_keys (
    name       TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
