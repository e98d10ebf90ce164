"""Point-in-time derivation: a derived series is stored as vintages, like raw data, so that for every derived
asset D = f(inputs) and every instant T, as_of(D, T) = f(as_of(inputs, T)) on every date f computes from the
inputs known at T.

A Derivation names its input series (observations: series_id, obs_date, value), the function f (the inputs as
known at an instant -> obs_date and the derived value columns) and its Window: which input dates a derived date
reads. A derived value's release_time is the instant of the input release that produced it: the latest release
time among the input values it was computed from, or later when what produced it was an input leaving its window
(a withdrawal: the value computed without it only became knowable when it was withdrawn). inputs_released keeps
that latest input release time; the input vintages a value came from are the inputs as of its release_time,
within its window. Nothing is overwritten: a derived date gains a vintage when its value changes, a withdrawal
(null values) when it can no longer be computed.

derive_vintages walks the distinct instants at which an input value changed (a new key, a revision, a
withdrawal; a re-release of the same value is no change), in order, and at each recomputes only the derived dates
whose window contains a changed input key, before or after the change: a value depends on its window's inputs
only, so no other date can change. The recomputations of successive instants are gathered into one call of f
until one would recompute a date already due (a date due once has no changed input in its window later in the
batch, so the batch's last state gives its value at the instant it was due). derive_vintages_naive recomputes
every date at every input release instant, which is the rule itself and quadratic for daily inputs; the tests
hold the two to the same vintages.

f must compute a derived date from the inputs its window reads for it, whatever else it is given: the engine
feeds it only the windows of the dates it recomputes. Derived dates are dates some input has. Values are floats:
a null or NaN from f means the date is not computable (a window not filled yet, a window that does not vary), and
two values within UNCHANGED_RTOL of each other are the same value, since recomputing a rolling statistic over part
of a series instead of all of it moves its last bits.

Inputs of other shapes: a PeriodDerivation computes a date from every row a keyed dataset has on it (a price
index's components in a month; derive_period_vintages), and a SurpriseDerivation a first release against the
expectations released before it (derive_surprise_vintages); both emit vintages in the same columns under the same
rule. released_changes says what each input vintage released in a window changed, for the revision report.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import polars as pl

from macro_assets.analytics.frames import require_columns
from macro_assets.analytics.macro import diffusion_index, surprises, trimmed_mean, yoy_from_mom
from macro_assets.analytics.market import returns, rolling_correlation, rolling_volatility, trailing_drawdown
from macro_assets.analytics.statistics import rolling_percentile_rank, rolling_zscore
from macro_assets.errors import InvalidInput
from macro_assets.timeutil import UTC_DATETIME, Moment, parse_instant

INPUT_COLUMNS = ["series_id", "obs_date", "value", "release_time"]
# The columns of a vintages frame that describe a vintage rather than hold its values.
PROVENANCE_COLUMNS = ("release_time", "release_basis", "payload_sha256", "inputs_released")
DERIVED_BASIS = "vintage"
NO_INSTANT = np.iinfo(np.int64).min  # inputs_released of a withdrawal, computed from nothing
UNCHANGED_RTOL = 1e-9
UNCHANGED_ATOL = 1e-12


# --------------------------------------------------------------------------------------------- the reference
def as_of(
    vintages: pl.DataFrame, instant: Moment, *, id_column: str = "series_id", key_columns: Sequence[str] = ("obs_date",)
) -> pl.DataFrame:
    """What a reader's as_of returns from a vintages frame: for each key, its latest vintage released at or before
    `instant` (naive: UTC), keys whose latest vintage then is a withdrawal (every value null) left out; ordered by
    id and key."""
    keys = [id_column, *key_columns]
    require_columns(vintages, [*keys, "release_time"], "vintages")
    values = [column for column in vintages.columns if column not in keys and column not in PROVENANCE_COLUMNS]
    moment = parse_instant(instant, field="instant")
    return (
        _utc_release_times(vintages)
        .filter(pl.col("release_time") <= moment)
        .sort(*keys, "release_time")
        .unique(keys, keep="last", maintain_order=True)
        .filter(pl.any_horizontal(pl.col(values).is_not_null()))
    )


def _utc_release_times(frame: pl.DataFrame) -> pl.DataFrame:
    release = pl.col("release_time")
    aware = release.dt.replace_time_zone("UTC") if frame.schema["release_time"].time_zone is None else release
    return frame.with_columns(aware.dt.convert_time_zone("UTC").cast(UTC_DATETIME))


# ---------------------------------------------------------------------------------------------- the windows
class Window(Protocol):
    """Which input dates a derived date reads, for one input at a time. `known` is the input's known dates at an
    instant, sorted (numpy datetime64[D]); every window reads a contiguous run of them."""

    def reads(self, dates: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each derived date in `dates`, the [start, end) positions in `known` of the dates it reads."""
        ...

    def readers(self, changed: np.ndarray, known: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each changed input date, the [start, end) positions in `candidates` (sorted derived dates) of the
        derived dates that read it when the input's known dates are `known`; an empty run when none does."""
        ...


@dataclass(frozen=True)
class TrailingObservations:
    """The last `count` known observations of each input dated at or before the derived date (a rolling
    statistic over observations: which dates those are depends on what is known)."""

    count: int

    def __post_init__(self):
        if not isinstance(self.count, int) or self.count < 1:
            raise InvalidInput(f"count: a whole number of observations, at least 1, got {self.count!r}")

    def reads(self, dates: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        end = np.searchsorted(known, dates, side="right")
        return np.maximum(end - self.count, 0), end

    def readers(self, changed: np.ndarray, known: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # A derived date d reads a known date c when c <= d and at most `count` known dates lie in [c, d], i.e.
        # d comes before the known date `count` places after c.
        position = np.searchsorted(known, changed)
        is_known = position < len(known)
        is_known[is_known] = known[position[is_known]] == changed[is_known]
        after = position + self.count
        start = np.searchsorted(candidates, changed)
        stop = np.full(len(changed), len(candidates))
        bounded = after < len(known)
        stop[bounded] = np.searchsorted(candidates, known[after[bounded]])
        return start, np.where(is_known, stop, start)


@dataclass(frozen=True)
class TrailingMonths:
    """Each input's dates in the `months` calendar months ending with the derived date's month, up to the derived
    date (12 for a change over a year of monthly data)."""

    months: int

    def __post_init__(self):
        if not isinstance(self.months, int) or self.months < 1:
            raise InvalidInput(f"months: a whole number of months, at least 1, got {self.months!r}")

    def reads(self, dates: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first = (dates.astype("datetime64[M]") - (self.months - 1)).astype("datetime64[D]")
        return np.searchsorted(known, first), np.searchsorted(known, dates, side="right")

    def readers(self, changed: np.ndarray, known: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        beyond = (changed.astype("datetime64[M]") + self.months).astype("datetime64[D]")
        return np.searchsorted(candidates, changed), np.searchsorted(candidates, beyond)


@dataclass(frozen=True)
class SameDate:
    """Each input's value on the derived date itself (a spread of two series)."""

    def reads(self, dates: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.searchsorted(known, dates), np.searchsorted(known, dates, side="right")

    def readers(self, changed: np.ndarray, known: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.searchsorted(candidates, changed), np.searchsorted(candidates, changed, side="right")


# ------------------------------------------------------------------------------------------ the derivation
@dataclass(frozen=True)
class Derivation:
    """A derived series `name` = compute(the `inputs` as known at an instant). compute takes observations
    (series_id, obs_date, value: only the inputs' known values) and returns obs_date and the `values` columns;
    `window` says which input dates each derived date reads (see the module docstring for what compute must
    honour)."""

    name: str
    inputs: tuple[str, ...]
    compute: Callable[[pl.DataFrame], pl.DataFrame]
    window: Window
    values: tuple[str, ...] = ("value",)

    def __post_init__(self):
        if not self.inputs or len(set(self.inputs)) != len(self.inputs):
            raise InvalidInput(f"derivation {self.name}: inputs must be distinct series ids, got {self.inputs!r}")
        if not self.values:
            raise InvalidInput(f"derivation {self.name}: name at least one value column")

    def computed(self, known: pl.DataFrame) -> pl.DataFrame:
        """compute's result (obs_date and the value columns, as floats) on the dates it could compute: rows whose
        values are all null or NaN are left out."""
        result = self.compute(known)
        require_columns(result, ["obs_date", *self.values], f"derivation {self.name} output")
        floats = [pl.col(column).cast(pl.Float64).fill_nan(None) for column in self.values]
        return result.select("obs_date", *floats).filter(pl.any_horizontal(pl.col(self.values).is_not_null()))


def _zscore(known: pl.DataFrame, window: int) -> pl.DataFrame:
    return rolling_zscore(known, window).select("obs_date", value="zscore")


def _yoy(known: pl.DataFrame) -> pl.DataFrame:
    return yoy_from_mom(known).select("obs_date", value="yoy")


def _spread(known: pl.DataFrame, minuend: str, subtrahend: str) -> pl.DataFrame:
    left = known.filter(pl.col("series_id") == minuend).select("obs_date", left="value")
    right = known.filter(pl.col("series_id") == subtrahend).select("obs_date", right="value")
    return left.join(right, on="obs_date").select("obs_date", value=pl.col("left") - pl.col("right"))


def zscore_derivation(name: str, series_id: str, window: int) -> Derivation:
    """The rolling z-score of one series over its last `window` observations (statistics.rolling_zscore)."""
    return Derivation(name, (series_id,), functools.partial(_zscore, window=window), TrailingObservations(window))


def yoy_derivation(name: str, series_id: str) -> Derivation:
    """The change over 12 months chain-linked from one series of monthly changes (macro.yoy_from_mom)."""
    return Derivation(name, (series_id,), _yoy, TrailingMonths(12))


def spread_derivation(name: str, minuend: str, subtrahend: str) -> Derivation:
    """minuend - subtrahend on the dates both have (10Y - 2Y, nominal - real)."""
    compute = functools.partial(_spread, minuend=minuend, subtrahend=subtrahend)
    return Derivation(name, (minuend, subtrahend), compute, SameDate())


def _returns(known: pl.DataFrame, kind: str) -> pl.DataFrame:
    return returns(known, kind).select("obs_date", value="return")


def _volatility(known: pl.DataFrame, window: int, periods_per_year: float) -> pl.DataFrame:
    spread = rolling_volatility(returns(known, "log"), window, periods_per_year=periods_per_year)
    return spread.select("obs_date", value="volatility")


def _drawdown(known: pl.DataFrame, window: int) -> pl.DataFrame:
    return trailing_drawdown(known, window).select("obs_date", value="drawdown")


def _percentile_rank(known: pl.DataFrame, window: int) -> pl.DataFrame:
    return rolling_percentile_rank(known, window).select("obs_date", value="percentile_rank")


def _return_correlation(known: pl.DataFrame, left: str, right: str, window: int, reach: int) -> pl.DataFrame:
    # A value may only read the last `reach` observations of each series (its window), which the engine feeds
    # it whole, with possibly older ones: positions counted in what it is given are exact within the window and
    # put anything older at least `reach` behind, so the conditions below hold where they would on all history.
    positioned = returns(known).with_columns(position=pl.int_range(pl.len()).over("series_id"))
    sides = {
        "left": positioned.filter(pl.col("series_id") == left),
        "right": positioned.filter(pl.col("series_id") == right),
    }
    paired = rolling_correlation(sides["left"], sides["right"], window, value_column="return")
    for side, rows in sides.items():
        paired = paired.join(rows.select("obs_date", pl.col("position").alias(f"{side}_position")), on="obs_date")
    within = pl.lit(True)
    for column in ("left_position", "right_position"):
        position = pl.col(column)
        # The window holds `reach` observations, and the first pair's return (which reads the observation
        # before it) lies inside it.
        within = within & (position >= reach - 1) & (position - position.shift(window - 1) <= reach - 2)
    return paired.sort("obs_date").select("obs_date", value=pl.when(within).then(pl.col("correlation")))


def returns_derivation(name: str, series_id: str, kind: str) -> Derivation:
    """The simple or log return of one series from each observation to the next (market.returns)."""
    if kind not in ("simple", "log"):
        raise InvalidInput(f"derivation {name}: kind 'simple' or 'log', got {kind!r}")
    return Derivation(name, (series_id,), functools.partial(_returns, kind=kind), TrailingObservations(2))


def volatility_derivation(name: str, series_id: str, window: int, periods_per_year: float) -> Derivation:
    """The annualised volatility of one series' log returns over its last `window` returns, which read its last
    window + 1 observations (market.rolling_volatility)."""
    compute = functools.partial(_volatility, window=window, periods_per_year=periods_per_year)
    return Derivation(name, (series_id,), compute, TrailingObservations(window + 1))


def drawdown_derivation(name: str, series_id: str, window: int) -> Derivation:
    """The drawdown of one series from the highest of its last `window` observations (market.trailing_drawdown).
    A peak over all history would make every date read every date before it, and its value depend on where the
    stored history starts."""
    return Derivation(name, (series_id,), functools.partial(_drawdown, window=window), TrailingObservations(window))


def percentile_rank_derivation(name: str, series_id: str, window: int) -> Derivation:
    """The percentile rank of one series' value among its last `window` observations
    (statistics.rolling_percentile_rank)."""
    compute = functools.partial(_percentile_rank, window=window)
    return Derivation(name, (series_id,), compute, TrailingObservations(window))


def correlation_derivation(name: str, left: str, right: str, window: int, reach: int | None = None) -> Derivation:
    """The Pearson correlation of two series' simple returns over the last `window` dates both have
    (market.rolling_correlation), each return from the series' own previous observation. A date reads the last
    `reach` observations of each series (twice the window unless given): it has a value once both have `reach`
    observations and its `window` common dates lie within them. Two calendars' holidays spread the common dates
    over a few more observations than `window`; only a gap of about reach - window observations in one series
    leaves a date without a value."""
    span = 2 * window if reach is None else reach
    if not isinstance(span, int) or span < window + 1:
        raise InvalidInput(f"derivation {name}: reach must be at least window + 1 ({window + 1}), got {reach!r}")
    compute = functools.partial(_return_correlation, left=left, right=right, window=window, reach=span)
    return Derivation(name, (left, right), compute, TrailingObservations(span))


def unfilled_windows(derivation: Derivation, derived: pl.DataFrame, input_vintages: pl.DataFrame) -> pl.DataFrame:
    """The stored values of a derivation over trailing observations whose window was not filled when they were
    released: a vintage with a value on a date before which some input, as known at the vintage's release time,
    had fewer than the window's count of observations. Counted from the inputs themselves, not by the engine.
    series_id (the input short of observations), obs_date, release_time, observations."""
    window = derivation.window
    if not isinstance(window, TrailingObservations):
        raise InvalidInput(f"derivation {derivation.name}: filled windows are counted for trailing observations only")
    require_columns(derived, ["obs_date", "release_time", *derivation.values], f"derivation {derivation.name}")
    require_columns(input_vintages, INPUT_COLUMNS, f"derivation {derivation.name} input vintages")
    held = _utc_release_times(derived).filter(pl.any_horizontal(pl.col(derivation.values).is_not_null()))
    inputs = input_vintages.filter(pl.col("series_id").is_in(list(derivation.inputs)))
    short = []
    for (instant,), rows in held.group_by("release_time"):
        known = as_of(inputs, instant)
        dates = rows["obs_date"].to_numpy()
        for series_id in derivation.inputs:
            known_dates = np.sort(known.filter(pl.col("series_id") == series_id)["obs_date"].to_numpy())
            counts = np.searchsorted(known_dates, dates, side="right")
            short.append(
                rows.select("obs_date", "release_time")
                .with_columns(series_id=pl.lit(series_id, pl.String), observations=pl.Series(counts, dtype=pl.Int64))
                .filter(pl.col("observations") < window.count)
            )
    columns = {"series_id": pl.String, "obs_date": pl.Date, "release_time": UTC_DATETIME, "observations": pl.Int64}
    return pl.concat([pl.DataFrame(schema=columns), *(frame.select(list(columns)) for frame in short)]).sort(
        "release_time", "obs_date", "series_id"
    )


# ------------------------------------------------------------------------------------------ the input state
@dataclass
class _Known:
    """One input's known values at an instant, by date: dates (datetime64[D], sorted), values, and the release
    time of each (microseconds since the epoch)."""

    dates: np.ndarray
    values: np.ndarray
    released: np.ndarray

    @classmethod
    def empty(cls) -> _Known:
        return cls(np.array([], "datetime64[D]"), np.array([], float), np.array([], np.int64))

    def changed(self, dates: np.ndarray, values: np.ndarray, released: int) -> _Known:
        """The state after these changes released at `released`: a NaN value withdraws its date."""
        kept = ~np.isin(self.dates, dates)
        published = ~np.isnan(values)
        merged_dates = np.concatenate([self.dates[kept], dates[published]])
        order = np.argsort(merged_dates, kind="stable")
        return _Known(
            merged_dates[order],
            np.concatenate([self.values[kept], values[published]])[order],
            np.concatenate([self.released[kept], np.full(published.sum(), released)])[order],
        )


def _knowns(frame: pl.DataFrame, inputs: Sequence[str]) -> dict[str, _Known]:
    """The known state of each input from an as_of frame of them."""
    known = {}
    for series_id in inputs:
        rows = frame.filter(pl.col("series_id") == series_id)
        known[series_id] = _Known(
            rows["obs_date"].to_numpy(),
            rows["value"].to_numpy(),
            rows["release_time"].dt.epoch("us").to_numpy(),
        )
    return known


def _inputs(vintages: pl.DataFrame, derivation: Derivation, until: dt.datetime) -> pl.DataFrame:
    """The vintages of the derivation's inputs released by `until`, as stored."""
    require_columns(vintages, INPUT_COLUMNS, f"derivation {derivation.name} input vintages")
    chosen = (
        _utc_release_times(vintages.select(INPUT_COLUMNS))
        .with_columns(pl.col("value").cast(pl.Float64))
        .filter(pl.col("series_id").is_in(list(derivation.inputs)), pl.col("release_time") <= until)
        .sort("series_id", "obs_date", "release_time")
    )
    repeated = chosen.filter(chosen.select("series_id", "obs_date", "release_time").is_duplicated())
    if not repeated.is_empty():
        first = repeated.row(0, named=True)
        raise InvalidInput(
            f"derivation {derivation.name}: {first['series_id']} {first['obs_date']} has two vintages released at"
            f" {first['release_time']}"
        )
    # What the warehouse stores of them: a vintage only where it changes what is known (a first value, a
    # different value, a withdrawal of a known value), so that a value's release time is when it became known.
    value = pl.col("value")
    key = ["series_id", "obs_date"]
    first = pl.int_range(pl.len()).over(key) == 0
    return chosen.filter(pl.when(first).then(value.is_not_null()).otherwise(value.ne_missing(value.shift(1).over(key))))


def _cover(start: np.ndarray, stop: np.ndarray, size: int) -> np.ndarray:
    """The positions in [0, size) inside any of the runs [start, stop)."""
    edges = np.zeros(size + 1, np.int64)
    np.add.at(edges, start, 1)
    np.add.at(edges, stop, -1)
    return np.cumsum(edges[:-1]) > 0


# ---------------------------------------------------------------------------------------- the derived state
class _Derived:
    """The derived values held so far (the latest vintage of each date, by date) and the vintages emitted."""

    def __init__(self, derivation: Derivation):
        self.derivation = derivation
        self.dates = np.array([], "datetime64[D]")
        self.values = np.empty((0, len(derivation.values)))
        # Chunks of vintages: dates, values, release instants, inputs_released.
        self.emitted: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def update(
        self, instants: np.ndarray, recomputed: np.ndarray, result: pl.DataFrame, known: dict[str, _Known]
    ) -> None:
        """Emits the value of every date of `recomputed` (sorted, distinct) that changed, and a withdrawal for
        every one held but no longer computed, each released at its instant in `instants`; `result` is computed()
        on the inputs `known`, whose rows at other dates are ignored."""
        computed_dates = result["obs_date"].to_numpy()
        computed, has_new = _lookup(
            computed_dates, result.select(self.derivation.values).to_numpy().astype(float), recomputed
        )
        held, has_old = _lookup(self.dates, self.values, recomputed)
        changed = has_new & (~has_old | _differs(computed, held))
        withdrawn = has_old & ~has_new
        if changed.any():
            dates = recomputed[changed]
            self.emitted.append((dates, computed[changed], instants[changed], self._inputs_released(dates, known)))
        if withdrawn.any():
            dates = recomputed[withdrawn]
            nulls = np.full((len(dates), self.values.shape[1]), np.nan)
            self.emitted.append((dates, nulls, instants[withdrawn], np.full(len(dates), NO_INSTANT)))
        kept = ~np.isin(self.dates, recomputed)
        # An unchanged date keeps the value of its stored vintage, not the recomputation within UNCHANGED_RTOL.
        current = np.where(changed[:, None], computed, held)[has_new]
        dates = np.concatenate([self.dates[kept], recomputed[has_new]])
        order = np.argsort(dates, kind="stable")
        self.dates, self.values = dates[order], np.concatenate([self.values[kept], current])[order]

    def _inputs_released(self, dates: np.ndarray, known: dict[str, _Known]) -> np.ndarray:
        """The latest release time among the input values each derived date reads."""
        latest = np.full(len(dates), NO_INSTANT)
        for state in known.values():
            start, stop = self.derivation.window.reads(dates, state.dates)
            for row, (a, b) in enumerate(zip(start, stop)):
                if b > a:
                    latest[row] = max(latest[row], state.released[a:b].max())
        return latest

    def frame(self) -> pl.DataFrame:
        width = len(self.derivation.values)
        dates = np.concatenate([np.array([], "datetime64[D]"), *(chunk[0] for chunk in self.emitted)])
        values = np.concatenate([np.empty((0, width)), *(chunk[1] for chunk in self.emitted)])
        released = np.concatenate([np.array([], np.int64), *(chunk[2] for chunk in self.emitted)])
        inputs = np.concatenate([np.array([], np.int64), *(chunk[3] for chunk in self.emitted)])
        instant = pl.from_epoch(pl.col("release_time"), "us").dt.replace_time_zone("UTC")
        inputs_released = pl.when(pl.col("inputs_released") != NO_INSTANT).then(pl.col("inputs_released"))
        return (
            pl.DataFrame(
                {
                    "series_id": pl.Series([self.derivation.name] * len(dates), dtype=pl.String),
                    "obs_date": pl.Series(dates, dtype=pl.Date),
                    **{name: pl.Series(values[:, i]).fill_nan(None) for i, name in enumerate(self.derivation.values)},
                    "release_time": pl.Series(released, dtype=pl.Int64),
                    "release_basis": pl.Series([DERIVED_BASIS] * len(dates), dtype=pl.String),
                    "inputs_released": pl.Series(inputs, dtype=pl.Int64),
                }
            )
            .with_columns(
                release_time=instant,
                inputs_released=pl.from_epoch(inputs_released, "us").dt.replace_time_zone("UTC"),
            )
            .sort("obs_date", "release_time")
        )


def _lookup(dates: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of `values` (by sorted distinct `dates`) at each wanted date (NaN where there is none), and whether
    there is one."""
    order = np.argsort(dates, kind="stable")
    dates, values = dates[order], values[order]
    position = np.minimum(np.searchsorted(dates, wanted), max(len(dates) - 1, 0))
    found = np.zeros(len(wanted), bool) if not len(dates) else dates[position] == wanted
    rows = np.full((len(wanted), values.shape[1]), np.nan)
    rows[found] = values[position[found]]
    return rows, found


def _differs(values: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Whether each row of values differs from the held row: a value appearing or disappearing, or two values
    further apart than UNCHANGED_RTOL."""
    missing, was_missing = np.isnan(values), np.isnan(held)
    with np.errstate(invalid="ignore"):
        apart = np.abs(values - held) > UNCHANGED_ATOL + UNCHANGED_RTOL * np.maximum(np.abs(values), np.abs(held))
    return ((missing != was_missing) | (apart & ~missing & ~was_missing)).any(axis=1)


# ------------------------------------------------------------------------------------------- the engines
def derive_vintages(derivation: Derivation, input_vintages: pl.DataFrame, until: Moment) -> pl.DataFrame:
    """The derived vintages from every input vintage released by `until` (the run's one read instant), computed
    incrementally (see the module docstring): series_id (the derivation's name), obs_date, the value columns,
    release_time, release_basis 'vintage', inputs_released; a withdrawal has null values and inputs_released.
    `input_vintages` is what the readers' vintages return (series_id, obs_date, value, release_time, a withdrawal
    as a null value), for the derivation's inputs and possibly others."""
    moment = parse_instant(until, field="until")
    changes = _changes(_inputs(input_vintages, derivation, moment))
    series = changes["series_id"].to_numpy()
    dates, values = changes["obs_date"].to_numpy(), changes["value"].to_numpy()
    instants = changes["release_time"].to_numpy()
    known = {series_id: _Known.empty() for series_id in derivation.inputs}
    seen = np.array([], "datetime64[D]")  # every input date known so far: wherever a derived value may be held
    derived = _Derived(derivation)
    batch = _Batch()
    for start, stop in _runs(instants):
        before, known, changed = known, dict(known), {}  # every input's state before and after the instant
        for series_id in np.unique(series[start:stop]):
            rows = np.flatnonzero(series[start:stop] == series_id) + start
            changed[series_id] = dates[rows]
            known[series_id] = before[series_id].changed(dates[rows], values[rows], int(instants[start]))
        seen = _with_dates(seen, dates[start:stop])
        recomputed = _readers(derivation.window, changed, before, known, seen)
        if batch.holds_any(recomputed):  # the batch's values are those of the state before this instant
            batch.flush(derived, before)
        batch.add(int(instants[start]), recomputed)
    batch.flush(derived, known)
    return derived.frame()


class _Batch:
    """Recomputations deferred to one compute call: the dates to recompute at successive instants, none of them
    twice. A date not recomputed again has no changed input in its window at any later instant of the batch, so
    its value and its inputs at the batch's last state are those of the instant it was due at; one call instead
    of one per instant, which is most of the time when daily releases each add one date."""

    def __init__(self):
        self.dates: list[np.ndarray] = []
        self.instants: list[np.ndarray] = []
        self.held = np.array([], "datetime64[D]")

    def holds_any(self, dates: np.ndarray) -> bool:
        return bool(np.isin(dates, self.held).any())

    def add(self, instant: int, dates: np.ndarray) -> None:
        self.dates.append(dates)
        self.instants.append(np.full(len(dates), instant))
        self.held = _with_dates(self.held, dates)

    def flush(self, derived: _Derived, known: dict[str, _Known]) -> None:
        """Recomputes the batch's dates from `known` (the state after its last instant) and empties it."""
        if len(self.held):
            dates, instants = np.concatenate(self.dates), np.concatenate(self.instants)
            order = np.argsort(dates, kind="stable")
            recomputed = _recompute(derived.derivation, self.held, known)
            derived.update(instants[order], dates[order], recomputed, known)
        self.dates, self.instants, self.held = [], [], np.array([], "datetime64[D]")


def _with_dates(sorted_dates: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """`sorted_dates` with `dates` added (still sorted, no repeats)."""
    new = np.unique(dates)
    position = np.searchsorted(sorted_dates, new)
    present = position < len(sorted_dates)
    present[present] = sorted_dates[position[present]] == new[present]
    return np.insert(sorted_dates, position[~present], new[~present])


def _runs(instants: np.ndarray) -> list[tuple[int, int]]:
    """The [start, stop) rows of each instant of a sorted array."""
    cuts = [0, *(np.flatnonzero(np.diff(instants)) + 1).tolist(), len(instants)]
    return list(zip(cuts[:-1], cuts[1:])) if len(instants) else []


def _changes(inputs: pl.DataFrame) -> pl.DataFrame:
    """The input vintages by release time, the release time as microseconds since the epoch and a withdrawal as
    NaN."""
    return inputs.select(
        "series_id", "obs_date", pl.col("value").fill_null(float("nan")), pl.col("release_time").dt.epoch("us")
    ).sort("release_time", "series_id", "obs_date")


def _readers(
    window: Window,
    changed: dict[str, np.ndarray],
    before: dict[str, _Known],
    after: dict[str, _Known],
    candidates: np.ndarray,
) -> np.ndarray:
    """The derived dates among `candidates` whose window contains a changed input date before or after the
    change."""
    touched = np.zeros(len(candidates), bool)
    for series_id, dates in changed.items():
        for state in (before[series_id], after[series_id]):
            touched |= _cover(*window.readers(dates, state.dates, candidates), len(candidates))
    return candidates[touched]


def _recompute(derivation: Derivation, dates: np.ndarray, known: dict[str, _Known]) -> pl.DataFrame:
    """compute over the windows of `dates` only (its result on other dates is discarded)."""
    parts = []
    for series_id, state in known.items():
        read = _cover(*derivation.window.reads(dates, state.dates), len(state.dates))
        parts.append(
            pl.DataFrame(
                {
                    "series_id": pl.Series([series_id] * int(read.sum()), dtype=pl.String),
                    "obs_date": pl.Series(state.dates[read], dtype=pl.Date),
                    "value": pl.Series(state.values[read], dtype=pl.Float64),
                }
            )
        )
    return derivation.computed(pl.concat(parts))


def derive_vintages_naive(derivation: Derivation, input_vintages: pl.DataFrame, until: Moment) -> pl.DataFrame:
    """The same vintages as derive_vintages, by the rule itself: at every distinct input release instant up to
    `until`, compute every date from the inputs as of that instant and emit what changed. The reference the
    tests and the benchmark hold derive_vintages to."""
    moment = parse_instant(until, field="until")
    inputs = _inputs(input_vintages, derivation, moment)
    derived = _Derived(derivation)
    for instant in inputs["release_time"].unique().sort():
        known = as_of(inputs, instant)
        result = derivation.computed(known.select("series_id", "obs_date", "value"))
        every = np.union1d(derived.dates, result["obs_date"].to_numpy())
        stamp = int(pl.Series([instant], dtype=UTC_DATETIME).dt.epoch("us")[0])
        derived.update(np.full(len(every), stamp), every, result, _knowns(known, derivation.inputs))
    return derived.frame()


# ------------------------------------------------------------------------------ derivations of a keyed shape
@dataclass(frozen=True)
class PeriodDerivation:
    """A derived series whose value on a date is f of every row one keyed dataset has on that date (all the
    components of a price index in a month), as known at an instant: the SameDate window over a shape keyed by
    more than the date, which Derivation's single-valued observations cannot carry. The derivation's compute takes
    those rows (id_column, obs_date, key_columns, the shape's values) and returns obs_date and its value columns."""

    derivation: Derivation
    id_column: str
    key_columns: tuple[str, ...]

    def __post_init__(self):
        if len(self.derivation.inputs) != 1 or not isinstance(self.derivation.window, SameDate):
            raise InvalidInput(
                f"derivation {self.derivation.name}: a period derivation reads one dataset on the date itself"
            )

    @property
    def name(self) -> str:
        return self.derivation.name

    @property
    def input(self) -> str:
        return self.derivation.inputs[0]

    def known(self, vintages: pl.DataFrame, instant: Moment) -> pl.DataFrame:
        """The input's rows as known at `instant` (as_of on its keys)."""
        rows = vintages.filter(pl.col(self.id_column) == self.input)
        return as_of(rows, instant, id_column=self.id_column, key_columns=("obs_date", *self.key_columns))


def derive_period_vintages(period: PeriodDerivation, input_vintages: pl.DataFrame, until: Moment) -> pl.DataFrame:
    """The derived vintages from every input vintage released by `until` (the run's one read instant), in the
    columns derive_vintages gives. A date is recomputed only at the instants one of its rows changed, and the
    k-th such state of every date is computed in the same call of f: as many calls as the most instants one date
    has, whatever the length of the history. A date's vintage is released at the instant that changed it, and
    inputs_released is the latest release among the rows it was computed from."""
    derivation = period.derivation
    moment = parse_instant(until, field="until")
    keys = ["obs_date", *period.key_columns]
    require_columns(
        input_vintages, [period.id_column, *keys, "release_time"], f"derivation {derivation.name} input vintages"
    )
    rows = _utc_release_times(input_vintages).filter(
        pl.col(period.id_column) == period.input, pl.col("release_time") <= moment
    )
    values = [c for c in rows.columns if c not in (period.id_column, *keys) and c not in PROVENANCE_COLUMNS]
    instants = (
        rows.select("obs_date", instant="release_time")
        .unique()
        .sort("obs_date", "instant")
        .with_columns(state=pl.int_range(pl.len(), dtype=pl.Int64).over("obs_date"))
    )
    states = (
        instants.join(rows, on="obs_date")
        .filter(pl.col("release_time") <= pl.col("instant"))
        .sort("state", *keys, "release_time")
        .unique(["state", *keys], keep="last", maintain_order=True)
        .filter(pl.any_horizontal(pl.col(values).is_not_null()))
    )
    results = pl.DataFrame(
        schema={
            "obs_date": pl.Date,
            **dict.fromkeys(derivation.values, pl.Float64),
            "state": pl.Int64,
            "inputs_released": UTC_DATETIME,
        }
    )
    for (state,), known in states.partition_by("state", as_dict=True).items():
        released = known.group_by("obs_date").agg(inputs_released=pl.col("release_time").max())
        result = derivation.computed(known.drop("state", "instant")).join(released, on="obs_date")
        results = pl.concat([results, result.with_columns(state=pl.lit(state, pl.Int64))], how="diagonal")
    by_instant = instants.join(results, on=["obs_date", "state"], how="left").sort("obs_date", "state")
    return _emitted(derivation, by_instant)


def _emitted(derivation: Derivation, by_instant: pl.DataFrame) -> pl.DataFrame:
    """The vintages of successive states of each date (obs_date, instant, the values or nulls where the state
    computes nothing, inputs_released, in order): a value where it differs from the date's last vintage beyond
    UNCHANGED_RTOL, a withdrawal where a held date is no longer computed."""
    values = by_instant.select(derivation.values).to_numpy().astype(float)
    dates = by_instant["obs_date"].to_list()
    emitted, held = [], {}
    for row, date in enumerate(dates):
        now, before = values[row], held.get(date)
        computable = not np.isnan(now).all()
        if before is None and not computable:
            continue
        if before is not None and computable and not _differs(now[None, :], before[None, :])[0]:
            continue
        emitted.append(row)
        held[date] = now if computable else None
    chosen = by_instant[emitted]
    computable = pl.any_horizontal(pl.col(derivation.values).is_not_null())
    return chosen.select(
        series_id=pl.lit(derivation.name, pl.String),
        obs_date="obs_date",
        **{name: pl.col(name) for name in derivation.values},
        release_time=pl.col("instant"),
        release_basis=pl.lit(DERIVED_BASIS, pl.String),
        inputs_released=pl.when(computable).then(pl.col("inputs_released")),
    ).sort("obs_date", "release_time")


def _diffusion(known: pl.DataFrame, weighted: bool) -> pl.DataFrame:
    return diffusion_index(known).select("obs_date", value="weighted_diffusion" if weighted else "diffusion")


def _trimmed_mean(known: pl.DataFrame, trim: float) -> pl.DataFrame:
    return trimmed_mean(known, trim).select("obs_date", value="trimmed_mean")


def _components_derivation(name: str, dataset_id: str, compute: Callable[[pl.DataFrame], pl.DataFrame]):
    return PeriodDerivation(Derivation(name, (dataset_id,), compute, SameDate()), "dataset_id", ("component",))


def diffusion_derivation(name: str, components_id: str, *, weighted: bool) -> PeriodDerivation:
    """The share of a price index's subitems rising in each period, by count or by weight (macro.diffusion_index),
    from its index_components dataset."""
    return _components_derivation(name, components_id, functools.partial(_diffusion, weighted=weighted))


def trimmed_mean_derivation(name: str, components_id: str, trim: float) -> PeriodDerivation:
    """The weighted trimmed mean of a price index's subitem changes in each period (macro.trimmed_mean), from its
    index_components dataset."""
    return _components_derivation(name, components_id, functools.partial(_trimmed_mean, trim=trim))


# ----------------------------------------------------------------------------------------------- surprises
@dataclass(frozen=True)
class SurpriseDerivation:
    """`name` = the first release of the series `actual` minus the median of the expectations dataset `expected`
    known strictly before that release, the reference matching the observation's period (macro.surprises).

    Every input value it reads is released at or before the actual's first release, and no later vintage of
    either input changes which values those were, so each date has one vintage, released with the actual's first
    release: computing it once at the run's instant is the incremental derivation."""

    name: str
    actual: str
    expected: str
    frequency: str = "monthly"
    calculation_basis: int = 0

    def computed(
        self, actual_vintages: pl.DataFrame, expectation_vintages: pl.DataFrame, instant: Moment
    ) -> pl.DataFrame:
        """f on the inputs as known at `instant`, their vintages released by then: the dates whose actual is out
        and has an expectation, with macro.surprises' columns (obs_date, actual, expected, survey_date,
        survey_release_time, surprise, release_time: the actual's first release)."""
        moment = parse_instant(instant, field="instant")
        require_columns(actual_vintages, INPUT_COLUMNS, f"derivation {self.name} actual vintages")
        require_columns(expectation_vintages, ["dataset_id", "release_time"], f"derivation {self.name} expectations")
        first_releases = (
            _utc_release_times(actual_vintages.select(INPUT_COLUMNS))
            .filter(pl.col("series_id") == self.actual, pl.col("release_time") <= moment, pl.col("value").is_not_null())
            .sort("obs_date", "release_time")
            .unique("obs_date", keep="first", maintain_order=True)
        )
        expectations = _utc_release_times(expectation_vintages).filter(
            pl.col("dataset_id") == self.expected, pl.col("release_time") <= moment
        )
        return surprises(first_releases, expectations, self.frequency, self.calculation_basis).drop_nulls("surprise")


def derive_surprise_vintages(
    derivation: SurpriseDerivation, actual_vintages: pl.DataFrame, expectation_vintages: pl.DataFrame, until: Moment
) -> pl.DataFrame:
    """The surprise's vintages from the inputs released by `until`, in the columns derive_vintages gives: one per
    date, released (and inputs_released) at the actual's first release."""
    computed = derivation.computed(actual_vintages, expectation_vintages, until)
    return computed.select(
        series_id=pl.lit(derivation.name, pl.String),
        obs_date="obs_date",
        value="surprise",
        release_time="release_time",
        release_basis=pl.lit(DERIVED_BASIS, pl.String),
        inputs_released="release_time",
    )


# ---------------------------------------------------------------------------------------- what a release changed
def released_changes(
    vintages: pl.DataFrame,
    first: Moment,
    last: Moment,
    *,
    id_column: str = "series_id",
    key_columns: Sequence[str] = ("obs_date",),
    value_column: str = "value",
) -> pl.DataFrame:
    """Every vintage released in [first, last] (naive: UTC) and what it changed: `change` is "new" for a key's
    first value, "revised" for a value replacing a known one (or one withdrawn before), "withdrawn" for a
    withdrawal; old is the value it replaced, delta = new - old. id, keys, release_time, change, old, new, delta,
    by release time, id and key."""
    keys = [id_column, *key_columns]
    require_columns(vintages, [*keys, value_column, "release_time"], "vintages")
    start, stop = parse_instant(first, field="first"), parse_instant(last, field="last")
    new, old = pl.col(value_column), pl.col(value_column).shift(1).over(keys)
    known_before = pl.int_range(pl.len()).over(keys) > 0
    change = pl.when(new.is_null()).then(pl.lit("withdrawn")).when(known_before).then(pl.lit("revised"))
    return (
        _utc_release_times(vintages.select(*keys, value_column, "release_time"))
        .sort(*keys, "release_time")
        .with_columns(old=old, change=change.otherwise(pl.lit("new")))
        .filter(pl.col("release_time").is_between(start, stop))
        .select(*keys, "release_time", "change", "old", new=new, delta=new - pl.col("old"))
        .sort("release_time", *keys)
    )
