-- The quality enforcer reads the quality results after its cursor (`seq > ? AND type =
-- 'quality_result_recorded'`), on every write of results and before every quality read. With
-- only the log's primary key that walks every event after the cursor, so each read slowed
-- with the equipment states, operations and movements ingested since the last result (1 M
-- events after it: a scan of 1 M rows under the write lock). This partial index makes it a
-- range of the quality results alone.

CREATE INDEX events_quality_seq
    ON events (seq)
    WHERE type = 'quality_result_recorded';
