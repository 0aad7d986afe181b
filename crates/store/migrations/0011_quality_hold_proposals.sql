-- A hold placed by applying a `quality_hold` proposal names it, so that the proposal's
-- rollback releases exactly the holds it placed. NULL for holds placed by hand (and for
-- holds placed directly by the enforcer before its holds went through governance).
ALTER TABLE quality_holds ADD COLUMN proposal_id TEXT;
CREATE INDEX quality_holds_proposal ON quality_holds (proposal_id);
