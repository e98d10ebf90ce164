"""The point-in-time rule of derived series, stated directly: for every instant T, the derived vintages as of T
equal the derivation recomputed from its inputs as of T, on hand-built inputs with first releases, revisions,
withdrawals, unchanged re-releases and releases at the same second and one second apart."""

from __future__ import annotations

import datetime as dt

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

CASES = {
    "zscore": (pit.zscore_derivation("z_in_z3", "z_in", 3), Z_INPUTS),
    "yoy": (pit.yoy_derivation("mom_yoy", "mom"), YOY_INPUTS),
    "spread": (pit.spread_derivation("ust_10y_2y", "ust10y", "ust2y"), SPREAD_INPUTS),
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
    if case == "zscore":
        return known.filter(pl.col("obs_date") <= day).sort("obs_date").tail(3)
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
