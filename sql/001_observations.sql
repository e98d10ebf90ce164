-- Append-only vintages of every series: a revision is a new row with a later release_time, never an update.
CREATE TABLE IF NOT EXISTS observations (
    series_id      text             NOT NULL,
    obs_date       date             NOT NULL,
    release_time   timestamptz      NOT NULL,
    -- NULL only for a withdrawal: the value was removed from that vintage (ALFRED "."), so as_of omits the date.
    value          double precision CHECK (value IS NULL OR (value > '-Infinity' AND value < 'Infinity' AND value <> 'NaN')),
    release_basis  text             NOT NULL CHECK (release_basis IN ('vintage', 'estimated', 'observed')),
    payload_sha256 text             NOT NULL CHECK (length(payload_sha256) = 64),
    ingested_at    timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (series_id, obs_date, release_time)
);

-- Stored vintages are never changed: the statement-level guard costs nothing on the insert path.
CREATE OR REPLACE FUNCTION observations_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'observations are append-only: % is not allowed (add a vintage with a later release_time)', TG_OP;
END;
$$;
DROP TRIGGER IF EXISTS observations_append_only ON observations;
CREATE TRIGGER observations_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON observations
    FOR EACH STATEMENT EXECUTE FUNCTION observations_are_append_only();

-- Every fetched payload, archived verbatim in the object store before parsing: any number traces back to its bytes.
CREATE TABLE IF NOT EXISTS payloads (
    object_key     text        PRIMARY KEY,
    payload_sha256 text        NOT NULL CHECK (length(payload_sha256) = 64),
    source         text        NOT NULL,
    series_id      text        NOT NULL,
    request        text        NOT NULL,  -- method and URL with secrets redacted
    http_status    integer     NOT NULL,
    bytes          bigint      NOT NULL,
    window_start   date        NOT NULL,
    window_end     date        NOT NULL,
    fetched_at     timestamptz NOT NULL,
    archived_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS payloads_series_fetched ON payloads (series_id, fetched_at);

-- Rows that could not be read: kept with the reason and the payload they came from, never dropped silently.
CREATE TABLE IF NOT EXISTS quarantine (
    source         text        NOT NULL,
    series_id      text        NOT NULL,
    payload_sha256 text        NOT NULL,
    record_index   integer     NOT NULL,  -- position of the record in the payload (-1: the payload as a whole)
    field          text        NOT NULL,
    raw_record     text        NOT NULL,
    reason         text        NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
-- A re-run that meets the same bad record again adds nothing.
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_identity
    ON quarantine (series_id, payload_sha256, record_index, field, md5(raw_record), reason);
