"""Macro transformations: YoY from monthly changes, diffusion and trimmed-mean core of a price index's
components, and release surprises against the Focus expectations known before the release.

Changes are in percent, as the sources publish them (0.5 is 0.5%).
"""

from __future__ import annotations

import polars as pl

from macro_assets.analytics.frames import require_columns
from macro_assets.errors import InvalidInput

COMPONENT_COLUMNS = ["dataset_id", "obs_date", "component", "value", "weight", "level"]
PERIOD = ["dataset_id", "obs_date"]
# Focus reference labels: "08/2026" for a month, "2026" for a year.
REFERENCE_FORMATS = {"monthly": "%m/%Y", "annual": "%Y"}


def yoy_from_mom(
    frame: pl.DataFrame, *, id_column: str = "series_id", time_column: str = "obs_date", value_column: str = "value"
) -> pl.DataFrame:
    """The change over 12 months (%) chain-linked from monthly changes (%): prod(1 + m_i / 100) - 1 over the
    month and the 11 before it, times 100 (twelve months of 0.5% give 6.1678%). Null unless all 12 consecutive
    months are there. id, time, value, yoy."""
    require_columns(frame, [id_column, time_column, value_column], "monthly changes")
    month = pl.col(time_column).dt.year() * 12 + pl.col(time_column).dt.month()
    growth = (pl.col(value_column) / 100).log1p().rolling_sum(12, min_samples=12).over(id_column)
    consecutive = (month - month.shift(11).over(id_column)) == 11
    return (
        frame.select(id_column, time_column, value_column)
        .drop_nulls(value_column)
        .sort(id_column, time_column)
        .with_columns(yoy=pl.when(consecutive).then(growth.exp().sub(1).mul(100)))
    )


def _components(components: pl.DataFrame, level: str | None) -> pl.DataFrame:
    require_columns(components, COMPONENT_COLUMNS, "index components")
    chosen = components if level is None else components.filter(pl.col("level") == level)
    return chosen.drop_nulls("value")


def diffusion_index(components: pl.DataFrame, level: str | None = "subitem") -> pl.DataFrame:
    """The share (%) of the components at `level` (IPCA: subitem, the BCB's; None: every row given) whose change
    in the period is positive (an unchanged one is not), unweighted and weighted by the components' weights
    (components without a weight count in the unweighted share only). dataset_id, obs_date, components,
    diffusion, weighted_diffusion."""
    rising = (pl.col("value") > 0).cast(pl.Float64)
    weight = pl.col("weight")
    return (
        _components(components, level)
        .group_by(PERIOD)
        .agg(
            components=pl.len(),
            diffusion=rising.mean() * 100,
            weighted_diffusion=(rising * weight).sum() / weight.sum() * 100,
        )
        .sort(PERIOD)
    )


def trimmed_mean(components: pl.DataFrame, trim: float = 20.0, level: str | None = "subitem") -> pl.DataFrame:
    """The weighted trimmed mean (%) of the period's changes, as the BCB computes its IPCA-MA core (without the
    smoothing of IPCA-MS): the components at `level` sorted by change, their weights rescaled to 100, the lowest
    and highest `trim`% of the weight cut off; a component straddling a cut keeps only its weight inside the
    band, and the mean is weighted by the weight kept. dataset_id, obs_date, trimmed_mean."""
    if not 0 <= trim < 50:
        raise InvalidInput(f"trim: the percent of weight cut from each tail, in [0, 50), got {trim!r}")
    share = pl.col("weight") / pl.col("weight").sum().over(PERIOD) * 100
    upper = pl.col("share").cum_sum().over(PERIOD)
    kept = pl.min_horizontal(pl.col("upper"), 100 - trim) - pl.max_horizontal(pl.col("upper") - pl.col("share"), trim)
    return (
        _components(components, level)
        .drop_nulls("weight")
        .sort(*PERIOD, "value")
        .with_columns(share=share)
        .with_columns(upper=upper)
        .with_columns(kept=kept.clip(lower_bound=0))
        .group_by(PERIOD)
        .agg(trimmed_mean=(pl.col("kept") * pl.col("value")).sum() / pl.col("kept").sum())
        .sort(PERIOD)
    )


def surprises(
    actuals: pl.DataFrame,
    expectations: pl.DataFrame,
    frequency: str = "monthly",
    calculation_basis: int = 0,
    *,
    id_column: str = "series_id",
) -> pl.DataFrame:
    """First release minus the Focus median known before it. `actuals` are first releases (series_id, obs_date,
    value, release_time: ObservationsReader.first_release); `expectations` one Focus dataset's statistics
    (survey_date, reference, calculation_basis, median, release_time). An observation of a month matches the
    reference "MM/YYYY" of its obs_date (frequency "monthly"), of a year the reference "YYYY" (frequency
    "annual"); of the surveys of that reference and `calculation_basis` (0: forecasts of the last 30 days, 1: of
    the last 5 business days), the one used is the latest survey released strictly before the actual (a survey
    released at or after it could have seen it), the latest survey date among those released at once. An
    observation with no such survey has null expected and surprise. series_id, obs_date, reference, actual,
    release_time, expected, survey_date, survey_release_time, surprise."""
    if frequency not in REFERENCE_FORMATS:
        raise InvalidInput(f"frequency: one of {', '.join(REFERENCE_FORMATS)}, got {frequency!r}")
    require_columns(actuals, [id_column, "obs_date", "value", "release_time"], "first releases")
    require_columns(
        expectations, ["survey_date", "reference", "calculation_basis", "median", "release_time"], "expectations"
    )
    known = (
        expectations.filter(pl.col("calculation_basis") == calculation_basis, pl.col("median").is_not_null())
        .sort("reference", "release_time", "survey_date")
        .unique(["reference", "release_time"], keep="last")
        .select(
            "reference",
            "survey_date",
            expected="median",
            survey_release_time="release_time",
            available_at="release_time",
        )
        .sort("available_at")
    )
    released = (
        actuals.drop_nulls("value")
        .select(
            id_column,
            "obs_date",
            reference=pl.col("obs_date").dt.strftime(REFERENCE_FORMATS[frequency]),
            actual="value",
            release_time="release_time",
            available_at="release_time",
        )
        .sort("available_at")
    )
    # Both sides are sorted by available_at above (polars cannot check that within the `by` groups).
    matched = released.join_asof(
        known,
        on="available_at",
        by="reference",
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    return (
        matched.drop("available_at")
        .with_columns(surprise=pl.col("actual") - pl.col("expected"))
        .sort(id_column, "obs_date")
    )
