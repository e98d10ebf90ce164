-- Two more append-only vintage tables on the pattern of observations (a revision is a new row with a later
-- release_time; a vintage whose values are all NULL is a withdrawal), and one guard for all three.

-- Curves: one row per point of a curve on a curve date (a bond "<type> <maturity>" or a tenor label "10Y").
CREATE TABLE IF NOT EXISTS curve_points (
    curve_id       text        NOT NULL,
    curve_date     date        NOT NULL,
    point          text        NOT NULL,
    release_time   timestamptz NOT NULL,
    maturity_date  date,
    tenor_years    double precision CHECK (tenor_years > '-Infinity' AND tenor_years < 'Infinity'),
    rate           double precision CHECK (rate > '-Infinity' AND rate < 'Infinity'),
    buy_rate       double precision CHECK (buy_rate > '-Infinity' AND buy_rate < 'Infinity'),
    sell_rate      double precision CHECK (sell_rate > '-Infinity' AND sell_rate < 'Infinity'),
    buy_price      double precision CHECK (buy_price > '-Infinity' AND buy_price < 'Infinity'),
    sell_price     double precision CHECK (sell_price > '-Infinity' AND sell_price < 'Infinity'),
    base_price     double precision CHECK (base_price > '-Infinity' AND base_price < 'Infinity'),
    release_basis  text        NOT NULL CHECK (release_basis IN ('vintage', 'estimated', 'observed')),
    payload_sha256 text        NOT NULL CHECK (length(payload_sha256) = 64),
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (curve_id, curve_date, point, release_time)
);

-- Bars: one row per bar (its start instant) of one instrument at one interval; the dataset id names both.
CREATE TABLE IF NOT EXISTS bars (
    dataset_id     text        NOT NULL,
    bar_time       timestamptz NOT NULL,
    release_time   timestamptz NOT NULL,
    open           double precision CHECK (open > '-Infinity' AND open < 'Infinity'),
    high           double precision CHECK (high > '-Infinity' AND high < 'Infinity'),
    low            double precision CHECK (low > '-Infinity' AND low < 'Infinity'),
    close          double precision CHECK (close > '-Infinity' AND close < 'Infinity'),
    adj_close      double precision CHECK (adj_close > '-Infinity' AND adj_close < 'Infinity'),
    volume         double precision CHECK (volume > '-Infinity' AND volume < 'Infinity'),
    dividend       double precision CHECK (dividend > '-Infinity' AND dividend < 'Infinity'),
    split_ratio    double precision CHECK (split_ratio > '-Infinity' AND split_ratio < 'Infinity'),
    release_basis  text        NOT NULL CHECK (release_basis IN ('vintage', 'estimated', 'observed')),
    payload_sha256 text        NOT NULL CHECK (length(payload_sha256) = 64),
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, bar_time, release_time)
);

-- One guard for every vintage table, naming the table it protects (its argument: a chunk of a hypertable carries
-- a copy of the row-level trigger and would otherwise report its own internal name).
CREATE OR REPLACE FUNCTION vintages_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are append-only: % is not allowed (add a vintage with a later release_time)', TG_ARGV[0], TG_OP;
END;
$$;

-- The statement-level trigger refuses UPDATE, DELETE and TRUNCATE of the table at no cost to inserts. The row-level
-- one refuses nothing more on a plain table, but TimescaleDB copies row-level triggers (only those) to every chunk
-- of a hypertable, where an UPDATE or DELETE naming the chunk would otherwise go through. Neither fires on INSERT
-- or COPY.
DROP TRIGGER IF EXISTS observations_append_only ON observations;
DROP FUNCTION IF EXISTS observations_are_append_only();
CREATE TRIGGER observations_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON observations
    FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('observations');
CREATE TRIGGER observations_append_only_rows BEFORE UPDATE OR DELETE ON observations
    FOR EACH ROW EXECUTE FUNCTION vintages_are_append_only('observations');

CREATE TRIGGER curve_points_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON curve_points
    FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('curve_points');
CREATE TRIGGER curve_points_append_only_rows BEFORE UPDATE OR DELETE ON curve_points
    FOR EACH ROW EXECUTE FUNCTION vintages_are_append_only('curve_points');

CREATE TRIGGER bars_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON bars
    FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('bars');
CREATE TRIGGER bars_append_only_rows BEFORE UPDATE OR DELETE ON bars
    FOR EACH ROW EXECUTE FUNCTION vintages_are_append_only('bars');
