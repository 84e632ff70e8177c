-- Reconciliation: when a job without final news is next queried from its provider.
ALTER TABLE jobs ADD COLUMN next_poll_at INTEGER;
ALTER TABLE jobs ADD COLUMN poll_interval_ms INTEGER;
CREATE INDEX jobs_due_for_poll ON jobs (next_poll_at) WHERE next_poll_at IS NOT NULL;
