-- Indexes of the read model's queries (the OData surface, `store::query`): quality results
-- are events, so their fields are expressions over the event body; these indexes hold the
-- same expressions, word for word as `sqlite/query.rs` writes them, limited to the events of
-- their type, so a filter on a characteristic ordered by time is an index range scan and the
-- join of an operation's start to its completion is a lookup.

CREATE INDEX events_quality_characteristic_time
    ON events (json_extract(body, '$.characteristic'), time)
    WHERE type = 'quality_result_recorded';

CREATE INDEX events_quality_time
    ON events (time)
    WHERE type = 'quality_result_recorded';

CREATE INDEX events_operation_completed
    ON events (json_extract(body, '$.order'), json_extract(body, '$.step'), seq)
    WHERE type = 'operation_completed';

CREATE INDEX events_operation_started
    ON events (json_extract(body, '$.order'))
    WHERE type = 'operation_started';
