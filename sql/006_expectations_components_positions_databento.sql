-- The shapes of the rest of the sources, on the pattern of observations (append-only vintages: a revision is a new
-- row with a later release_time; a vintage whose values are all NULL is a withdrawal), each under the guard of 004.
-- Integers are bigint (counts, codes, nanoseconds since the epoch); the smallest bigint is refused because the read
-- path carries a missing integer as it.

-- BCB Focus: survey statistics of one expectation per survey date, reference period and calculation basis.
CREATE TABLE IF NOT EXISTS expectations (
    dataset_id        text NOT NULL,
    survey_date       date NOT NULL,
    reference         text NOT NULL,
    calculation_basis bigint NOT NULL CHECK (calculation_basis > -9223372036854775807 - 1),
    release_time      timestamptz NOT NULL,
    median            double precision CHECK (median > '-Infinity' AND median < 'Infinity'),
    mean              double precision CHECK (mean > '-Infinity' AND mean < 'Infinity'),
    std_dev           double precision CHECK (std_dev > '-Infinity' AND std_dev < 'Infinity'),
    minimum           double precision CHECK (minimum > '-Infinity' AND minimum < 'Infinity'),
    maximum           double precision CHECK (maximum > '-Infinity' AND maximum < 'Infinity'),
    respondents       bigint CHECK (respondents > -9223372036854775807 - 1),
    release_basis     text NOT NULL CHECK (release_basis IN ('vintage', 'estimated', 'observed')),
    payload_sha256    text NOT NULL CHECK (length(payload_sha256) = 64),
    ingested_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, survey_date, reference, calculation_basis, release_time)
);

-- IBGE SIDRA: a price index's components (change, weight) per period.
CREATE TABLE IF NOT EXISTS index_components (
    dataset_id     text NOT NULL,
    obs_date       date NOT NULL,
    component      text NOT NULL,
    release_time   timestamptz NOT NULL,
    value          double precision CHECK (value > '-Infinity' AND value < 'Infinity'),
    weight         double precision CHECK (weight > '-Infinity' AND weight < 'Infinity'),
    name           text,
    level          text,
    release_basis  text NOT NULL CHECK (release_basis IN ('vintage', 'estimated', 'observed')),
    payload_sha256 text NOT NULL CHECK (length(payload_sha256) = 64),
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, obs_date, component, release_time)
);

-- CFTC Commitments of Traders: positions per trader category of a weekly report.
CREATE TABLE IF NOT EXISTS positions (
    dataset_id     text NOT NULL,
    report_date    date NOT NULL,
    category       text NOT NULL,
    release_time   timestamptz NOT NULL,
    long           double precision CHECK (long > '-Infinity' AND long < 'Infinity'),
    short          double precision CHECK (short > '-Infinity' AND short < 'Infinity'),
    spreading      double precision CHECK (spreading > '-Infinity' AND spreading < 'Infinity'),
    open_interest  double precision CHECK (open_interest > '-Infinity' AND open_interest < 'Infinity'),
    release_basis  text NOT NULL CHECK (release_basis IN ('vintage', 'estimated', 'observed')),
    payload_sha256 text NOT NULL CHECK (length(payload_sha256) = 64),
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, report_date, category, release_time)
);

-- Databento trades (MBP-0), with the seed's key (ts_event, sequence, price, size, side).
CREATE TABLE IF NOT EXISTS trades (
    dataset_id     text NOT NULL,
    event_time     timestamptz NOT NULL,
    ts_event       bigint NOT NULL CHECK (ts_event > -9223372036854775807 - 1),
    sequence       bigint NOT NULL CHECK (sequence > -9223372036854775807 - 1),
    price          double precision NOT NULL CHECK (price > '-Infinity' AND price < 'Infinity'),
    size           bigint NOT NULL CHECK (size > -9223372036854775807 - 1),
    side           text NOT NULL,
    release_time   timestamptz NOT NULL,
    instrument_id  bigint CHECK (instrument_id > -9223372036854775807 - 1),
    publisher_id   bigint CHECK (publisher_id > -9223372036854775807 - 1),
    ts_recv        bigint CHECK (ts_recv > -9223372036854775807 - 1),
    action         text,
    flags          bigint CHECK (flags > -9223372036854775807 - 1),
    depth          bigint CHECK (depth > -9223372036854775807 - 1),
    ts_in_delta    bigint CHECK (ts_in_delta > -9223372036854775807 - 1),
    release_basis  text NOT NULL CHECK (release_basis IN ('vintage', 'estimated', 'observed')),
    payload_sha256 text NOT NULL CHECK (length(payload_sha256) = 64),
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, event_time, ts_event, sequence, price, size, side, release_time)
);

-- Databento TBBO: each trade with the best bid and offer just before it.
CREATE TABLE IF NOT EXISTS tbbo (
    dataset_id     text NOT NULL,
    event_time     timestamptz NOT NULL,
    ts_event       bigint NOT NULL CHECK (ts_event > -9223372036854775807 - 1),
    sequence       bigint NOT NULL CHECK (sequence > -9223372036854775807 - 1),
    price          double precision NOT NULL CHECK (price > '-Infinity' AND price < 'Infinity'),
    size           bigint NOT NULL CHECK (size > -9223372036854775807 - 1),
    side           text NOT NULL,
    release_time   timestamptz NOT NULL,
    instrument_id  bigint CHECK (instrument_id > -9223372036854775807 - 1),
    publisher_id   bigint CHECK (publisher_id > -9223372036854775807 - 1),
    ts_recv        bigint CHECK (ts_recv > -9223372036854775807 - 1),
    action         text,
    flags          bigint CHECK (flags > -9223372036854775807 - 1),
    depth          bigint CHECK (depth > -9223372036854775807 - 1),
    ts_in_delta    bigint CHECK (ts_in_delta > -9223372036854775807 - 1),
    bid_px_00      double precision CHECK (bid_px_00 > '-Infinity' AND bid_px_00 < 'Infinity'),
    ask_px_00      double precision CHECK (ask_px_00 > '-Infinity' AND ask_px_00 < 'Infinity'),
    bid_sz_00      bigint CHECK (bid_sz_00 > -9223372036854775807 - 1),
    ask_sz_00      bigint CHECK (ask_sz_00 > -9223372036854775807 - 1),
    bid_ct_00      bigint CHECK (bid_ct_00 > -9223372036854775807 - 1),
    ask_ct_00      bigint CHECK (ask_ct_00 > -9223372036854775807 - 1),
    release_basis  text NOT NULL CHECK (release_basis IN ('vintage', 'estimated', 'observed')),
    payload_sha256 text NOT NULL CHECK (length(payload_sha256) = 64),
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, event_time, ts_event, sequence, price, size, side, release_time)
);

-- Databento statistics (settlement, open interest, cleared volume, ...), keyed as in the seed.
CREATE TABLE IF NOT EXISTS instrument_statistics (
    dataset_id     text NOT NULL,
    event_time     timestamptz NOT NULL,
    ts_event       bigint NOT NULL CHECK (ts_event > -9223372036854775807 - 1),
    stat_type      bigint NOT NULL CHECK (stat_type > -9223372036854775807 - 1),
    sequence       bigint NOT NULL CHECK (sequence > -9223372036854775807 - 1),
    release_time   timestamptz NOT NULL,
    instrument_id  bigint CHECK (instrument_id > -9223372036854775807 - 1),
    publisher_id   bigint CHECK (publisher_id > -9223372036854775807 - 1),
    ts_recv        bigint CHECK (ts_recv > -9223372036854775807 - 1),
    ts_ref         bigint CHECK (ts_ref > -9223372036854775807 - 1),
    price          double precision CHECK (price > '-Infinity' AND price < 'Infinity'),
    quantity       bigint CHECK (quantity > -9223372036854775807 - 1),
    ts_in_delta    bigint CHECK (ts_in_delta > -9223372036854775807 - 1),
    channel_id     bigint CHECK (channel_id > -9223372036854775807 - 1),
    update_action  bigint CHECK (update_action > -9223372036854775807 - 1),
    stat_flags     bigint CHECK (stat_flags > -9223372036854775807 - 1),
    release_basis  text NOT NULL CHECK (release_basis IN ('vintage', 'estimated', 'observed')),
    payload_sha256 text NOT NULL CHECK (length(payload_sha256) = 64),
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, event_time, ts_event, stat_type, sequence, release_time)
);

-- Databento instrument definitions, one row per leg (leg 0 for an outright).
CREATE TABLE IF NOT EXISTS instrument_definitions (
    dataset_id                 text NOT NULL,
    event_time                 timestamptz NOT NULL,
    ts_event                   bigint NOT NULL CHECK (ts_event > -9223372036854775807 - 1),
    leg_index                  bigint NOT NULL CHECK (leg_index > -9223372036854775807 - 1),
    release_time               timestamptz NOT NULL,
    instrument_id              bigint CHECK (instrument_id > -9223372036854775807 - 1),
    publisher_id               bigint CHECK (publisher_id > -9223372036854775807 - 1),
    ts_recv                    bigint CHECK (ts_recv > -9223372036854775807 - 1),
    raw_symbol                 text,
    security_update_action     text,
    instrument_class           text,
    min_price_increment        double precision CHECK (min_price_increment > '-Infinity' AND min_price_increment < 'Infinity'),
    display_factor             double precision CHECK (display_factor > '-Infinity' AND display_factor < 'Infinity'),
    expiration                 bigint CHECK (expiration > -9223372036854775807 - 1),
    activation                 bigint CHECK (activation > -9223372036854775807 - 1),
    high_limit_price           double precision CHECK (high_limit_price > '-Infinity' AND high_limit_price < 'Infinity'),
    low_limit_price            double precision CHECK (low_limit_price > '-Infinity' AND low_limit_price < 'Infinity'),
    max_price_variation        double precision CHECK (max_price_variation > '-Infinity' AND max_price_variation < 'Infinity'),
    unit_of_measure_qty        double precision CHECK (unit_of_measure_qty > '-Infinity' AND unit_of_measure_qty < 'Infinity'),
    min_price_increment_amount double precision CHECK (min_price_increment_amount > '-Infinity' AND min_price_increment_amount < 'Infinity'),
    contract_multiplier        bigint CHECK (contract_multiplier > -9223372036854775807 - 1),
    min_lot_size               bigint CHECK (min_lot_size > -9223372036854775807 - 1),
    currency                   text,
    exchange                   text,
    asset                      text,
    security_group             text,
    security_type              text,
    cfi                        text,
    unit_of_measure            text,
    underlying                 text,
    strike_price               double precision CHECK (strike_price > '-Infinity' AND strike_price < 'Infinity'),
    leg_count                  bigint CHECK (leg_count > -9223372036854775807 - 1),
    leg_instrument_id          bigint CHECK (leg_instrument_id > -9223372036854775807 - 1),
    leg_raw_symbol             text,
    leg_side                   text,
    leg_ratio_qty_numerator    bigint CHECK (leg_ratio_qty_numerator > -9223372036854775807 - 1),
    leg_ratio_qty_denominator  bigint CHECK (leg_ratio_qty_denominator > -9223372036854775807 - 1),
    release_basis              text NOT NULL CHECK (release_basis IN ('vintage', 'estimated', 'observed')),
    payload_sha256             text NOT NULL CHECK (length(payload_sha256) = 64),
    ingested_at                timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, event_time, ts_event, leg_index, release_time)
);

CREATE TRIGGER expectations_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON expectations
    FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('expectations');
CREATE TRIGGER expectations_append_only_rows BEFORE UPDATE OR DELETE ON expectations
    FOR EACH ROW EXECUTE FUNCTION vintages_are_append_only('expectations');

CREATE TRIGGER index_components_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON index_components
    FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('index_components');
CREATE TRIGGER index_components_append_only_rows BEFORE UPDATE OR DELETE ON index_components
    FOR EACH ROW EXECUTE FUNCTION vintages_are_append_only('index_components');

CREATE TRIGGER positions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON positions
    FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('positions');
CREATE TRIGGER positions_append_only_rows BEFORE UPDATE OR DELETE ON positions
    FOR EACH ROW EXECUTE FUNCTION vintages_are_append_only('positions');

CREATE TRIGGER trades_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON trades
    FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('trades');
CREATE TRIGGER trades_append_only_rows BEFORE UPDATE OR DELETE ON trades
    FOR EACH ROW EXECUTE FUNCTION vintages_are_append_only('trades');

CREATE TRIGGER tbbo_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON tbbo
    FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('tbbo');
CREATE TRIGGER tbbo_append_only_rows BEFORE UPDATE OR DELETE ON tbbo
    FOR EACH ROW EXECUTE FUNCTION vintages_are_append_only('tbbo');

CREATE TRIGGER instrument_statistics_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON instrument_statistics
    FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('instrument_statistics');
CREATE TRIGGER instrument_statistics_append_only_rows BEFORE UPDATE OR DELETE ON instrument_statistics
    FOR EACH ROW EXECUTE FUNCTION vintages_are_append_only('instrument_statistics');

CREATE TRIGGER instrument_definitions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON instrument_definitions
    FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('instrument_definitions');
CREATE TRIGGER instrument_definitions_append_only_rows BEFORE UPDATE OR DELETE ON instrument_definitions
    FOR EACH ROW EXECUTE FUNCTION vintages_are_append_only('instrument_definitions');
