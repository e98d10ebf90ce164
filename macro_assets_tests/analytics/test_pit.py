"""The point-in-time rule of derived series, stated directly: for every instant T, the derived vintages as of T
equal the derivation recomputed from its inputs as of T, on hand-built inputs with first releases, revisions,
withdrawals, unchanged re-releases and releases at the same second and one second apart."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from macro_assets.analytics import pit
from macro_assets.errors import InvalidInput

UTC = dt.UTC
SCHEMA = {"series_id": pl.String, "obs_date": pl.Date, "value": pl.Float64, "release_time": pl.Datetime("us", "UTC")}
FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=UTC)
MICROSECOND = dt.timedelta(microseconds=1)
SECOND = dt.timedelta(seconds=1)


def vintages(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row").sort("series_id", "obs_date", "release_time")


def at(day: dt.date, hour: int, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, second, tzinfo=UTC)


def daily(start: dt.date, count: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(count)]


# A daily series for a 3-observation z-score: each date released at 18:00 on its day, the last two at the same
# second; a revision, an unchanged re-release, a withdrawal later republished, a revision one second after release.
Z_DATES = daily(dt.date(2024, 1, 1), 10)
Z_VALUES = [1.0, 3.0, 2.0, 5.0, 4.0, 8.0, 6.0, 7.0, 9.0, 5.5]
Z_INPUTS = vintages(
    [("z_in", d, v, at(d, 18)) for d, v in zip(Z_DATES[:9], Z_VALUES)]
    + [
        ("z_in", Z_DATES[9], Z_VALUES[9], at(Z_DATES[8], 18)),  # released with the date before it
        ("z_in", Z_DATES[2], 2.5, at(Z_DATES[4], 9)),  # a revision
        ("z_in", Z_DATES[3], 5.0, at(Z_DATES[5], 9)),  # the same value again
        ("z_in", Z_DATES[5], None, at(Z_DATES[7], 12)),  # a withdrawal
        ("z_in", Z_DATES[5], 7.5, at(Z_DATES[9], 12)),  # republished
        ("z_in", Z_DATES[8], 9.5, at(Z_DATES[8], 18, 1)),  # revised one second after its release
        ("other", Z_DATES[0], 100.0, at(Z_DATES[0], 1)),  # not an input: ignored
    ]
)

# Monthly changes for YoY: month m released on the 10th of the next month at 12:00; May 2022 revised at the same
# second as December's release, August withdrawn and republished one second after February's release.
MONTHS = [dt.date(2022 + m // 12, m % 12 + 1, 1) for m in range(18)]
MOM_VALUES = [0.5, 0.4, 0.9, 1.1, 0.5, 0.3, -0.1, 0.2, 0.6, 0.4, 0.3, 0.5, 0.5, 0.8, 0.7, 0.6, 0.5, 0.2]


def release_of(month: dt.date) -> dt.datetime:
    following = MONTHS[MONTHS.index(month) + 1] if month != MONTHS[-1] else dt.date(2023, 7, 1)
    return at(following.replace(day=10), 12)


YOY_INPUTS = vintages(
    [("mom", m, v, release_of(m)) for m, v in zip(MONTHS, MOM_VALUES)]
    + [
        ("mom", MONTHS[4], 0.7, release_of(MONTHS[11])),
        ("mom", MONTHS[7], None, at(dt.date(2023, 2, 1), 0)),
        ("mom", MONTHS[7], 0.25, release_of(MONTHS[13]) + SECOND),
    ]
)

# 10Y and 2Y daily yields: 10Y released at 21:00:00, 2Y one second later; the 2Y misses one date, a 10Y date is
# revised, a 2Y date withdrawn, and the last date of both released at the same second.
SPREAD_DATES = daily(dt.date(2024, 3, 4), 6)
SPREAD_INPUTS = vintages(
    [("ust10y", d, 4.2 + 0.01 * i, at(d, 21)) for i, d in enumerate(SPREAD_DATES[:5])]
    + [("ust2y", d, 4.6 - 0.02 * i, at(d, 21, 1)) for i, d in enumerate(SPREAD_DATES[:5]) if i != 1]
    + [
        ("ust10y", SPREAD_DATES[5], 4.3, at(SPREAD_DATES[5], 21)),
        ("ust2y", SPREAD_DATES[5], 4.5, at(SPREAD_DATES[5], 21)),
        ("ust10y", SPREAD_DATES[0], 4.25, at(SPREAD_DATES[2], 8)),
        ("ust2y", SPREAD_DATES[2], None, at(SPREAD_DATES[3], 10)),
    ]
)

# Two daily prices on different calendars for a 3-date return correlation reading 5 observations of each: fx
# released at 16:10:00, oil at 21:00:00; fx misses a holiday, oil two; an fx date revised, an oil date withdrawn
# and republished, the last date of both released at the same second and an oil date revised one second later.
PAIR_DATES = daily(dt.date(2024, 5, 1), 14)
FX_VALUES = [5.00, 5.05, 4.98, 5.10, 5.12, 5.07, 5.20, 5.15, 5.11, 5.25, 5.30, 5.22, 5.28, 5.35]
OIL_VALUES = [80.0, 79.0, 81.5, 80.5, 78.0, 79.5, 77.0, 78.5, 80.0, 76.5, 77.5, 79.0, 78.0, 76.0]
PAIR_INPUTS = vintages(
    [("fx", d, v, at(d, 16) + 600 * SECOND) for i, (d, v) in enumerate(zip(PAIR_DATES[:13], FX_VALUES)) if i != 4]
    + [("oil", d, v, at(d, 21)) for i, (d, v) in enumerate(zip(PAIR_DATES[:13], OIL_VALUES)) if i not in (6, 10)]
    + [
        ("fx", PAIR_DATES[13], FX_VALUES[13], at(PAIR_DATES[13], 21)),
        ("oil", PAIR_DATES[13], OIL_VALUES[13], at(PAIR_DATES[13], 21)),
        ("fx", PAIR_DATES[2], 5.01, at(PAIR_DATES[7], 9)),  # a revision
        ("oil", PAIR_DATES[8], None, at(PAIR_DATES[9], 12)),  # a withdrawal
        ("oil", PAIR_DATES[8], 79.0, at(PAIR_DATES[11], 12)),  # republished
        ("oil", PAIR_DATES[11], 79.5, at(PAIR_DATES[11], 21, 1)),  # revised one second after its release
    ]
)

CASES = {
    "zscore": (pit.zscore_derivation("z_in_z3", "z_in", 3), Z_INPUTS),
    "yoy": (pit.yoy_derivation("mom_yoy", "mom"), YOY_INPUTS),
    "spread": (pit.spread_derivation("ust_10y_2y", "ust10y", "ust2y"), SPREAD_INPUTS),
    "simple_return": (pit.returns_derivation("z_in_return", "z_in", "simple"), Z_INPUTS),
    "log_return": (pit.returns_derivation("z_in_log_return", "z_in", "log"), Z_INPUTS),
    "volatility": (pit.volatility_derivation("z_in_vol3", "z_in", 3, 252), Z_INPUTS),
    "drawdown": (pit.drawdown_derivation("z_in_drawdown3", "z_in", 3), Z_INPUTS),
    "percentile_rank": (pit.percentile_rank_derivation("z_in_pct3", "z_in", 3), Z_INPUTS),
    "correlation": (pit.correlation_derivation("fx_oil_corr3", "fx", "oil", 3, reach=5), PAIR_INPUTS),
}
# The last observations of each input a derived date reads, written out for the trailing windows.
TRAILING_READS = {
    "zscore": 3,
    "simple_return": 2,
    "log_return": 2,
    "volatility": 4,
    "drawdown": 3,
    "percentile_rank": 3,
    "correlation": 5,
}


def instants(inputs: pl.DataFrame) -> list[dt.datetime]:
    """Before any release, one microsecond before, at and half a second after every release, and far ahead."""
    released = sorted(set(inputs["release_time"].to_list()))
    around = [t + offset for t in released for offset in (-MICROSECOND, dt.timedelta(0), SECOND / 2)]
    return [released[0] - dt.timedelta(days=1), *around, FAR_FUTURE]


def recomputed(derivation: pit.Derivation, inputs: pl.DataFrame, instant: dt.datetime) -> pl.DataFrame:
    """The derivation applied to its inputs as of `instant`, on the dates it computes."""
    known = pit.as_of(inputs.filter(pl.col("series_id").is_in(derivation.inputs)), instant)
    return derivation.compute(known.select("series_id", "obs_date", "value")).drop_nulls("value").sort("obs_date")


def test_as_of_is_the_latest_vintage_released_by_the_instant_without_withdrawals():
    day = Z_DATES[5]
    known = pit.as_of(Z_INPUTS, at(Z_DATES[7], 12) - MICROSECOND).filter(pl.col("series_id") == "z_in")
    assert known.filter(pl.col("obs_date") == day)["value"].to_list() == [8.0]
    assert known.filter(pl.col("obs_date") == Z_DATES[2])["value"].to_list() == [2.5]
    withdrawn = pit.as_of(Z_INPUTS, at(Z_DATES[7], 12))
    assert day not in withdrawn["obs_date"].to_list()
    assert pit.as_of(Z_INPUTS, at(Z_DATES[9], 12)).filter(pl.col("obs_date") == day)["value"].to_list() == [7.5]
    assert pit.as_of(Z_INPUTS, at(Z_DATES[0], 1) - MICROSECOND).is_empty()


@pytest.mark.parametrize("case", CASES)
def test_stored_derived_as_of_equals_recomputation_from_inputs_as_of(case):
    derivation, inputs = CASES[case]
    derived = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
    checked = 0
    for instant in instants(inputs):
        stored = pit.as_of(derived, instant).select("obs_date", "value")
        expected = recomputed(derivation, inputs, instant)
        assert stored["obs_date"].to_list() == expected["obs_date"].to_list(), instant
        assert stored["value"].to_list() == pytest.approx(expected["value"].to_list(), rel=1e-12), instant
        checked += expected.height
    assert checked > 0


@pytest.mark.parametrize("case", CASES)
def test_incremental_derivation_gives_the_naive_vintages(case):
    derivation, inputs = CASES[case]
    incremental = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
    naive = pit.derive_vintages_naive(derivation, inputs, FAR_FUTURE)
    assert_frame_equal(incremental, naive, check_exact=False, rel_tol=pit.UNCHANGED_RTOL)
    assert incremental["release_basis"].unique().to_list() == ["vintage"]


def read_window(case: str, known: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The input rows a derived date reads, written out for each example derivation."""
    if case in TRAILING_READS:
        earlier = known.filter(pl.col("obs_date") <= day).sort("obs_date")
        return pl.concat(rows.tail(TRAILING_READS[case]) for _, rows in earlier.group_by("series_id"))
    if case == "yoy":
        first = dt.date(day.year - 1, day.month, 1) if day.month == 12 else dt.date(day.year - 1, day.month + 1, 1)
        return known.filter(pl.col("obs_date").is_between(first, day))
    return known.filter(pl.col("obs_date") == day)


@pytest.mark.parametrize("case", CASES)
def test_a_derived_value_is_released_when_its_inputs_were_and_never_before(case):
    derivation, inputs = CASES[case]
    derived = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
    input_instants = set(inputs["release_time"].to_list())
    for row in derived.iter_rows(named=True):
        assert row["release_time"] in input_instants
        if row["value"] is None:
            assert row["inputs_released"] is None
            continue
        known = pit.as_of(inputs.filter(pl.col("series_id").is_in(derivation.inputs)), row["release_time"])
        read = read_window(case, known, row["obs_date"])
        assert row["inputs_released"] == read["release_time"].max() <= row["release_time"]


def test_a_value_appears_only_once_its_window_is_filled():
    derivation, inputs = CASES["zscore"]
    derived = pit.derive_vintages(derivation, inputs, FAR_FUTURE).drop_nulls("value")
    for row in derived.iter_rows(named=True):
        known = pit.as_of(inputs.filter(pl.col("series_id") == "z_in"), row["release_time"])
        assert known.filter(pl.col("obs_date") <= row["obs_date"]).height >= 3
    assert derived["obs_date"].min() == Z_DATES[2]


def long_series(count=30):
    days = daily(dt.date(2024, 1, 1), count)
    values = np.cumsum(np.random.default_rng(3).normal(0, 1, count)).tolist()
    return days, [("s", d, v, at(d, 18)) for d, v in zip(days, values)]


def test_a_revision_adds_vintages_only_to_the_dates_whose_window_holds_it():
    days, rows = long_series()
    derivation = pit.zscore_derivation("s_z5", "s", 5)
    revised_at = at(days[-1], 20)
    inputs = vintages([*rows, ("s", days[10], 50.0, revised_at)])
    derived = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
    added = derived.filter(pl.col("release_time") == revised_at)
    assert added["obs_date"].to_list() == days[10:15]
    before = pit.as_of(derived, revised_at - MICROSECOND)
    after = pit.as_of(derived, revised_at)
    untouched = pl.col("obs_date").is_in(days[10:15]).not_()
    assert_frame_equal(before.filter(untouched), after.filter(untouched))


def test_an_unchanged_re_release_adds_nothing():
    days, rows = long_series()
    derivation = pit.zscore_derivation("s_z5", "s", 5)
    again = [("s", d, v, at(days[-1], 22)) for _, d, v, _ in rows[5:12]]
    plain = pit.derive_vintages(derivation, vintages(rows), FAR_FUTURE)
    assert_frame_equal(pit.derive_vintages(derivation, vintages([*rows, *again]), FAR_FUTURE), plain)
    assert_frame_equal(pit.derive_vintages_naive(derivation, vintages([*rows, *again]), FAR_FUTURE), plain)


def test_a_withdrawal_withdraws_the_dates_that_can_no_longer_be_computed():
    derivation, inputs = CASES["spread"]
    derived = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
    withdrawal = derived.filter(pl.col("release_time") == at(SPREAD_DATES[3], 10))
    assert withdrawal.select("obs_date", "value").rows() == [(SPREAD_DATES[2], None)]
    assert SPREAD_DATES[2] not in pit.as_of(derived, FAR_FUTURE)["obs_date"].to_list()
    assert SPREAD_DATES[1] not in derived["obs_date"].to_list()  # the 2Y never had it


def test_a_withdrawal_moves_the_windows_that_held_it():
    derivation, inputs = CASES["zscore"]
    derived = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
    withdrawn_at = at(Z_DATES[7], 12)
    changed = derived.filter(pl.col("release_time") == withdrawn_at).sort("obs_date")
    # Known then: dates 1-7 (the 8th comes at 18:00), so the windows of the 6th and the 7th held the 6th.
    assert changed["obs_date"].to_list() == Z_DATES[5:7]
    assert changed["value"].to_list()[0] is None
    # The 7th's window is now the 4th, 5th and 7th: no value of it was released at the withdrawal, and the new
    # z-score only became knowable then.
    assert changed["value"][1] == pytest.approx((6.0 - 5.0) / np.std([5.0, 4.0, 6.0], ddof=1))
    assert changed["inputs_released"][1] == at(Z_DATES[6], 18) < withdrawn_at


def test_the_same_second_and_one_second_apart_are_different_instants():
    derivation, inputs = CASES["spread"]
    derived = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
    day = SPREAD_DATES[0]
    assert pit.as_of(derived, at(day, 21)).is_empty()  # the 10Y alone
    assert pit.as_of(derived, at(day, 21, 1))["obs_date"].to_list() == [day]
    last = SPREAD_DATES[5]
    assert derived.filter(pl.col("obs_date") == last)["release_time"].to_list() == [at(last, 21)]


def test_a_later_run_only_appends_and_ignores_what_is_released_after_its_instant():
    derivation, inputs = CASES["zscore"]
    everything = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
    for until in instants(inputs)[::4]:
        run = pit.derive_vintages(derivation, inputs, until)
        assert_frame_equal(run, everything.filter(pl.col("release_time") <= until))


def test_incremental_equals_naive_on_a_random_history_of_revisions_and_withdrawals():
    rng = np.random.default_rng(11)
    days, rows = long_series(120)
    later = [at(days[min(int(i) + int(lag), 119)], 9) for i, lag in zip(range(120), rng.integers(1, 20, 120))]
    revisions = [("s", days[i], float(rng.normal()), later[i]) for i in rng.choice(120, 25, replace=False)]
    withdrawals = [("s", days[i], None, later[i] + SECOND) for i in rng.choice(120, 6, replace=False)]
    inputs = vintages([*rows, *revisions, *withdrawals])
    derivation = pit.zscore_derivation("s_z10", "s", 10)
    incremental = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
    naive = pit.derive_vintages_naive(derivation, inputs, FAR_FUTURE)
    assert_frame_equal(incremental, naive, check_exact=False, rel_tol=pit.UNCHANGED_RTOL)
    for instant in sorted(set(inputs["release_time"].to_list()))[::7]:
        stored = pit.as_of(incremental, instant)
        assert stored["value"].to_list() == pytest.approx(recomputed(derivation, inputs, instant)["value"].to_list())


@pytest.mark.parametrize("window", [pit.TrailingObservations(4), pit.TrailingMonths(3), pit.SameDate()])
def test_a_window_s_readers_are_exactly_the_dates_that_read_a_date(window):
    rng = np.random.default_rng(5)
    known = np.sort(rng.choice(np.arange("2024-01-01", "2024-12-31", dtype="datetime64[D]"), 60, replace=False))
    start, stop = window.reads(known, known)
    reads = {d: set(known[a:b]) for d, a, b in zip(known, start, stop)}
    first, last = window.readers(known, known, known)
    for changed, a, b in zip(known, first, last):
        assert set(known[a:b]) == {d for d in known if changed in reads[d]}


def test_two_vintages_of_one_key_at_one_instant_are_refused():
    twice = vintages([("s", Z_DATES[0], 1.0, at(Z_DATES[0], 18)), ("s", Z_DATES[0], 2.0, at(Z_DATES[0], 18))])
    with pytest.raises(InvalidInput, match="two vintages released at"):
        pit.derive_vintages(pit.zscore_derivation("s_z", "s", 3), twice, FAR_FUTURE)


# A price index's components for two months, four subitems each (weights 40, 30, 20, 10) and the general index:
# January out on 9 February, February on 12 March; a January subitem revised from falling to rising, a subitem
# re-released unchanged, every February row withdrawn; another dataset's rows at the same instants.
COMPONENT_SCHEMA = {
    "dataset_id": pl.String,
    "obs_date": pl.Date,
    "component": pl.String,
    "value": pl.Float64,
    "weight": pl.Float64,
    "name": pl.String,
    "level": pl.String,
    "release_time": pl.Datetime("us", "UTC"),
}
JANUARY, FEBRUARY = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
JANUARY_OUT, FEBRUARY_OUT = at(dt.date(2024, 2, 9), 12), at(dt.date(2024, 3, 12), 12)
REVISED, RE_RELEASED, WITHDRAWN = at(dt.date(2024, 3, 20), 0), at(dt.date(2024, 3, 25), 0), at(dt.date(2024, 4, 1), 0)
WEIGHTS = [40.0, 30.0, 20.0, 10.0]


def month_rows(dataset_id: str, month: dt.date, changes: list[float], released: dt.datetime) -> list[tuple]:
    general = (dataset_id, month, "g", 0.4, 100.0, "general", "general", released)
    subitems = [
        (dataset_id, month, f"s{i}", change, weight, f"subitem {i}", "subitem", released)
        for i, (change, weight) in enumerate(zip(changes, WEIGHTS))
    ]
    return [general, *subitems]


COMPONENTS = pl.DataFrame(
    [
        *month_rows("ipca", JANUARY, [0.5, -0.1, 0.0, 1.2], JANUARY_OUT),
        *month_rows("ipca", FEBRUARY, [0.3, 0.2, -0.4, 0.1], FEBRUARY_OUT),
        *month_rows("other", JANUARY, [-1.0, -1.0, -1.0, -1.0], JANUARY_OUT),
        ("ipca", JANUARY, "s1", 0.2, 30.0, "subitem 1", "subitem", REVISED),
        ("ipca", JANUARY, "s3", 1.2, 10.0, "subitem 3", "subitem", RE_RELEASED),
        *(
            (row[0], FEBRUARY, row[2], None, None, None, None, WITHDRAWN)
            for row in month_rows("ipca", FEBRUARY, [0] * 4, WITHDRAWN)
        ),
    ],
    schema=COMPONENT_SCHEMA,
    orient="row",
)
# By hand. Diffusion: January 2 of 4 subitems rising (weights 40 + 10 of 100), 3 of 4 after the revision (80);
# February 3 of 4 (80). Trimmed mean (20% cut from each tail): January by change -0.1 (30), 0.0 (20), 0.5 (40),
# 1.2 (10) keeps 10, 20, 30 and 0 of their weights, (10 * -0.1 + 30 * 0.5) / 60; revised, 0.0 (20), 0.2 (30),
# 0.5 (40), 1.2 (10) keeps 0, 30, 30 and 0, (30 * 0.2 + 30 * 0.5) / 60.
PERIOD_CASES = {
    "diffusion": (pit.diffusion_derivation("d", "ipca", weighted=False), [50.0, 75.0], 75.0),
    "weighted_diffusion": (pit.diffusion_derivation("w", "ipca", weighted=True), [50.0, 80.0], 80.0),
    "trimmed_mean": (pit.trimmed_mean_derivation("t", "ipca", 20.0), [14 / 60, 21 / 60], 1.3 / 6),
}


@pytest.mark.parametrize("case", PERIOD_CASES)
def test_a_period_derivation_as_of_equals_recomputation_from_the_components_as_of(case):
    derivation, _, _ = PERIOD_CASES[case]
    stored = pit.derive_period_vintages(derivation, COMPONENTS, FAR_FUTURE)
    for instant in instants(COMPONENTS):
        expected = derivation.derivation.computed(derivation.known(COMPONENTS, instant)).sort("obs_date")
        held = pit.as_of(stored, instant).sort("obs_date")
        assert held["obs_date"].to_list() == expected["obs_date"].to_list(), instant
        assert held["value"].to_list() == pytest.approx(expected["value"].to_list()), instant


@pytest.mark.parametrize("case", PERIOD_CASES)
def test_a_period_gains_a_vintage_when_its_components_change_and_is_withdrawn_with_them(case):
    derivation, january, february = PERIOD_CASES[case]
    stored = pit.derive_period_vintages(derivation, COMPONENTS, FAR_FUTURE)
    # The unchanged re-release adds nothing; the other dataset is not read.
    assert stored.select("obs_date", "release_time", "inputs_released").rows() == [
        (JANUARY, JANUARY_OUT, JANUARY_OUT),
        (JANUARY, REVISED, REVISED),
        (FEBRUARY, FEBRUARY_OUT, FEBRUARY_OUT),
        (FEBRUARY, WITHDRAWN, None),
    ]
    assert stored["value"].to_list()[:3] == pytest.approx([*january, february])
    assert stored["value"][3] is None and set(stored["release_basis"]) == {pit.DERIVED_BASIS}
    # A run at an earlier instant sees only what was out by then.
    assert pit.derive_period_vintages(derivation, COMPONENTS, REVISED - MICROSECOND).height == 2


def test_a_period_derivation_reads_one_dataset_on_the_date_itself():
    spread = pit.spread_derivation("s", "a", "b")
    with pytest.raises(InvalidInput, match="reads one dataset on the date itself"):
        pit.PeriodDerivation(spread, "dataset_id", ("component",))


# IPCA for January (0.42, out 9 February 12:00, revised in April) and February (0.83); Focus medians for each
# month, weekly, one released at the very instant of January's release (too late to count), one of the other
# calculation basis.
ACTUALS = vintages(
    [
        ("ipca", JANUARY, 0.42, JANUARY_OUT),
        ("ipca", FEBRUARY, 0.83, FEBRUARY_OUT),
        ("ipca", JANUARY, 0.50, WITHDRAWN),
    ]
)
SURVEY_SCHEMA = {
    "dataset_id": pl.String,
    "survey_date": pl.Date,
    "reference": pl.String,
    "calculation_basis": pl.Int64,
    "median": pl.Float64,
    "release_time": pl.Datetime("us", "UTC"),
}
SURVEYS = pl.DataFrame(
    [
        ("focus", dt.date(2024, 1, 26), "01/2024", 0, 0.38, at(dt.date(2024, 1, 29), 11)),
        ("focus", dt.date(2024, 2, 2), "01/2024", 0, 0.40, at(dt.date(2024, 2, 5), 11)),
        ("focus", dt.date(2024, 2, 9), "01/2024", 0, 0.10, JANUARY_OUT),
        ("focus", dt.date(2024, 3, 8), "02/2024", 0, 0.80, at(dt.date(2024, 3, 11), 11)),
        ("focus", dt.date(2024, 3, 8), "02/2024", 1, 0.70, at(dt.date(2024, 3, 11), 11)),
        ("other", dt.date(2024, 2, 2), "01/2024", 0, 9.0, at(dt.date(2024, 2, 5), 11)),
    ],
    schema=SURVEY_SCHEMA,
    orient="row",
)
SURPRISE = pit.SurpriseDerivation("ipca_surprise", "ipca", "focus")


def test_a_surprise_is_released_with_the_first_release_against_the_survey_out_strictly_before_it():
    stored = pit.derive_surprise_vintages(SURPRISE, ACTUALS, SURVEYS, FAR_FUTURE)
    assert stored.select("obs_date", "release_time", "inputs_released").rows() == [
        (JANUARY, JANUARY_OUT, JANUARY_OUT),
        (FEBRUARY, FEBRUARY_OUT, FEBRUARY_OUT),
    ]
    assert stored["value"].to_list() == pytest.approx([0.42 - 0.40, 0.83 - 0.80])


def test_a_surprise_as_of_equals_recomputation_from_the_inputs_known_then():
    stored = pit.derive_surprise_vintages(SURPRISE, ACTUALS, SURVEYS, FAR_FUTURE)
    for instant in instants(pl.concat([ACTUALS.select("release_time"), SURVEYS.select("release_time")])):
        expected = SURPRISE.computed(ACTUALS, SURVEYS, instant)
        held = pit.as_of(stored, instant)
        assert held["obs_date"].to_list() == expected["obs_date"].to_list(), instant
        assert held["value"].to_list() == pytest.approx(expected["surprise"].to_list()), instant


def test_released_changes_say_what_each_vintage_replaced():
    keys = {"id_column": "dataset_id", "key_columns": ("obs_date", "component")}
    changes = pit.released_changes(COMPONENTS.filter(pl.col("dataset_id") == "ipca"), REVISED, WITHDRAWN, **keys)
    revision = changes.row(0, named=True)
    assert (revision["component"], revision["change"], revision["old"], revision["new"]) == ("s1", "revised", -0.1, 0.2)
    assert revision["delta"] == pytest.approx(0.3)
    assert changes.row(1, named=True)["change"] == "revised"  # the re-release, unchanged: delta 0
    assert changes.row(1, named=True)["delta"] == 0
    assert changes["change"].to_list()[2:] == ["withdrawn"] * 5
    first = pit.released_changes(COMPONENTS, JANUARY_OUT, JANUARY_OUT, **keys)
    assert set(first["change"]) == {"new"} and first["old"].null_count() == first.height == 10


def test_a_period_derivation_keeps_the_rule_on_a_random_history_of_revisions_and_withdrawals():
    rng = np.random.default_rng(3)
    months = [dt.date(2023, m, 1) for m in range(1, 9)]
    first_out = [at(dt.date(2023, m + 1, 10), 12) for m in range(1, 9)]
    rows = [
        row for month, out in zip(months, first_out) for row in month_rows("ipca", month, rng.normal(0.3, 0.6, 4), out)
    ]
    later = [
        (
            "ipca",
            months[m],
            f"s{rng.integers(4)}",
            None if withdrawn else float(rng.normal(0.3, 0.6)),
            *((None, None, None) if withdrawn else (WEIGHTS[0], "subitem", "subitem")),
            first_out[m] + dt.timedelta(days=int(rng.integers(1, 90)), seconds=int(rng.integers(0, 2))),
        )
        for m, withdrawn in zip(rng.integers(0, 8, 15), rng.random(15) < 0.25)
    ]
    history = pl.DataFrame([*rows, *later], schema=COMPONENT_SCHEMA, orient="row").unique(
        ["obs_date", "component", "release_time"], keep="first"
    )
    for derivation, _, _ in PERIOD_CASES.values():
        stored = pit.derive_period_vintages(derivation, history, FAR_FUTURE)
        for instant in instants(history):
            expected = derivation.derivation.computed(derivation.known(history, instant)).sort("obs_date")
            held = pit.as_of(stored, instant).sort("obs_date")
            assert held["obs_date"].to_list() == expected["obs_date"].to_list(), instant
            assert held["value"].to_list() == pytest.approx(expected["value"].to_list()), instant


def hand_returns(values: dict[dt.date, float]) -> dict[dt.date, float]:
    """Each date's simple return from the series' previous date."""
    days = sorted(values)
    return {day: values[day] / values[before] - 1 for before, day in zip(days, days[1:])}


def test_a_correlation_is_of_the_last_common_returns_within_each_series_reach():
    days = daily(dt.date(2024, 1, 1), 10)
    a = dict(zip(days, [10.0, 10.5, 10.2, 10.8, 11.0, 10.7, 10.9, 11.4, 11.1, 11.6]))
    b_prices = [20.0, 19.0, 19.8, 19.1, 18.5, 19.4, 20.1, 19.7]
    b = dict(zip(days[:5] + days[7:], b_prices))  # b has no 6th and 7th dates
    inputs = vintages(
        [*(("a", d, v, at(d, 18)) for d, v in a.items()), *(("b", d, v, at(d, 20)) for d, v in b.items())]
    )
    ra, rb = hand_returns(a), hand_returns(b)

    def correlations(reach):
        derived = pit.derive_vintages(pit.correlation_derivation("a_b", "a", "b", 3, reach=reach), inputs, FAR_FUTURE)
        return dict(pit.as_of(derived, FAR_FUTURE).select("obs_date", "value").rows())

    def by_hand(*common):
        return statistics.correlation([ra[days[i]] for i in common], [rb[days[i]] for i in common])

    # Reading 5 observations of each: the 8th date's last common returns (4th, 5th, 8th) need a's 3rd, outside.
    assert correlations(5) == {days[4]: pytest.approx(by_hand(2, 3, 4)), days[9]: pytest.approx(by_hand(7, 8, 9))}
    # Reading 6: the 5th date has fewer than 6 observations of each; the 8th and 9th reach back to the 4th.
    assert correlations(6) == {
        days[7]: pytest.approx(by_hand(3, 4, 7)),
        days[8]: pytest.approx(by_hand(4, 7, 8)),
        days[9]: pytest.approx(by_hand(7, 8, 9)),
    }
    with pytest.raises(InvalidInput, match="reach must be at least window"):
        pit.correlation_derivation("a_b", "a", "b", 3, reach=3)


def test_market_derivations_are_the_market_functions_on_hand_computed_windows():
    days = daily(dt.date(2024, 1, 1), 6)
    prices = [100.0, 104.0, 101.0, 99.0, 103.0, 98.0]
    inputs = vintages([("p", d, v, at(d, 18)) for d, v in zip(days, prices)])

    def latest(derivation):
        derived = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
        return dict(pit.as_of(derived, FAR_FUTURE).select("obs_date", "value").rows())

    logs = [math.log(b / a) for a, b in zip(prices, prices[1:])]
    assert latest(pit.returns_derivation("r", "p", "simple")) == {
        day: pytest.approx(b / a - 1) for day, a, b in zip(days[1:], prices, prices[1:])
    }
    assert latest(pit.returns_derivation("r", "p", "log")) == {day: pytest.approx(r) for day, r in zip(days[1:], logs)}
    volatility = latest(pit.volatility_derivation("v", "p", 3, 252))
    assert volatility == {days[i]: pytest.approx(statistics.stdev(logs[i - 3 : i]) * math.sqrt(252)) for i in (3, 4, 5)}
    drawdown = latest(pit.drawdown_derivation("d", "p", 3))
    assert drawdown == {days[i]: pytest.approx(prices[i] / max(prices[i - 2 : i + 1]) - 1) for i in (2, 3, 4, 5)}
    # 99 is the lowest of (104, 101, 99): rank 1 of 3; 103 the highest of (101, 99, 103).
    ranks = latest(pit.percentile_rank_derivation("q", "p", 3))
    assert ranks == {
        days[2]: pytest.approx(2 / 3),
        days[3]: pytest.approx(1 / 3),
        days[4]: 1.0,
        days[5]: pytest.approx(1 / 3),
    }
    with pytest.raises(InvalidInput, match="kind 'simple' or 'log'"):
        pit.returns_derivation("r", "p", "arithmetic")


def test_unfilled_windows_counts_the_inputs_known_when_each_value_was_released():
    derivation, inputs = CASES["zscore"]
    derived = pit.derive_vintages(derivation, inputs, FAR_FUTURE)
    assert pit.unfilled_windows(derivation, derived, inputs).is_empty()
    early = pl.DataFrame(
        {"series_id": "z_in_z3", "obs_date": Z_DATES[3], "value": 0.5, "release_time": at(Z_DATES[1], 18)},
        schema=SCHEMA,
    )
    # Released when only the first two dates were known: the 4th date's window then held two observations.
    unfilled = pit.unfilled_windows(derivation, pl.concat([derived.select(list(SCHEMA)), early]), inputs)
    assert unfilled.rows() == [("z_in", Z_DATES[3], at(Z_DATES[1], 18), 2)]
    with pytest.raises(InvalidInput, match="trailing observations only"):
        pit.unfilled_windows(CASES["spread"][0], derived, inputs)


@pytest.mark.parametrize("case", TRAILING_READS)
def test_the_engine_emits_no_value_before_its_window_is_filled(case):
    derivation, inputs = CASES[case]
    assert pit.unfilled_windows(derivation, pit.derive_vintages(derivation, inputs, FAR_FUTURE), inputs).is_empty()
