-- Each job's deliveries as a chain instead of an index on callbacks (job_id, id): the job keeps
-- its newest delivery's id, each delivery its predecessor's. Recording a callback then writes
-- the job's row (written anyway) and the table's last page, not also a random page of an index
-- that grows with every callback. toapis' event ids, checked for repeats on each of its
-- callbacks, keep a partial index of their own. Jobs are never deleted: with foreign keys on,
-- deleting one would now scan callbacks for its deliveries.
ALTER TABLE callbacks ADD COLUMN prev_id INTEGER;
ALTER TABLE jobs ADD COLUMN last_callback_id INTEGER;
UPDATE callbacks SET prev_id = (
    SELECT max(p.id) FROM callbacks p WHERE p.job_id = callbacks.job_id AND p.id < callbacks.id
);
UPDATE jobs SET last_callback_id = (SELECT max(c.id) FROM callbacks c WHERE c.job_id = jobs.id);
DROP INDEX callbacks_by_job;
CREATE INDEX callbacks_by_event ON callbacks (job_id, event_id) WHERE event_id IS NOT NULL;
