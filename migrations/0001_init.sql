-- Jobs, the callback deliveries received for them, and service settings.
CREATE TABLE jobs (
    id                   TEXT PRIMARY KEY,
    provider             TEXT NOT NULL,
    model                TEXT NOT NULL,
    provider_task_id     TEXT,
    status               TEXT NOT NULL,
    provider_status      TEXT,
    progress             INTEGER NOT NULL DEFAULT 0,
    video_url            TEXT,
    video_url_expires_at INTEGER,
    last_frame_url       TEXT,
    error_code           TEXT,
    error_message        TEXT,
    request_json         TEXT NOT NULL,
    metadata_json        TEXT,
    confirmed            INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    completed_at         INTEGER,
    callbacks_received   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX jobs_by_created ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_by_provider_task ON jobs (provider, provider_task_id);

CREATE TABLE callbacks (
    id              INTEGER PRIMARY KEY,
    job_id          TEXT NOT NULL REFERENCES jobs (id),
    received_at     INTEGER NOT NULL,
    source          TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    provider_status TEXT,
    event_id        TEXT,
    body            TEXT NOT NULL
) STRICT;

CREATE INDEX callbacks_by_job ON callbacks (job_id, id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
