-- TimescaleDB is detected, never required: with the extension available (production, docker-compose) observations
-- becomes a hypertable compressed by series; on a plain PostgreSQL server this migration changes nothing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        RAISE NOTICE 'timescaledb is not available: observations stays a plain table';
        RETURN;
    END IF;
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    PERFORM create_hypertable('observations', 'obs_date', chunk_time_interval => INTERVAL '1 year',
                              if_not_exists => TRUE, migrate_data => TRUE);
    ALTER TABLE observations SET (timescaledb.compress,
                                  timescaledb.compress_segmentby = 'series_id',
                                  timescaledb.compress_orderby = 'obs_date, release_time');
    PERFORM add_compression_policy('observations', compress_after => INTERVAL '3 years', if_not_exists => TRUE);
END;
$$;
