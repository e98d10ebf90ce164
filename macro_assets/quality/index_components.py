"""Rules for price-index components (IBGE SIDRA): the rules every shape shares, then its own, judged on the latest
vintage of each component of each period: the general index is there, no weight is negative, each level of the
hierarchy (groups, subgroups, items, subitems) shares the whole index (weights summing to 100 within the rounding of
the published weights), and the general index's change is the weighted mean of its groups' changes (within the
rounding of the published changes). A diffusion index or a trimmed mean computed from components that break these
is computed from an incomplete or inconsistent basket."""

from __future__ import annotations

import polars as pl

from macro_assets.quality import CheckOutcome, CheckRule, Judged, common, sample

WEIGHT_DECIMALS = 4  # IBGE publishes weights (% of the index) with four decimals
CHANGE_DECIMALS = 2
# The published weights and changes are rounded: a sum of n weights may be off 100 by n half-units of the last
# decimal, and the weighted mean of rounded group changes off the rounded general change by a unit of its own.
HALF_WEIGHT_UNIT = 0.5 * 10**-WEIGHT_DECIMALS
CHANGE_TOLERANCE = 10**-CHANGE_DECIMALS + 1e-9
SHARE_LEVELS = ("group", "subgroup", "item", "subitem")


def latest_components(vintages: pl.DataFrame) -> pl.DataFrame:
    """The newest vintage of each component of each period, withdrawn ones left out."""
    key = ["obs_date", "component"]
    last = vintages.sort(*key, "release_time").group_by(key, maintain_order=True).last()
    return last.filter(pl.col("value").is_not_null() | pl.col("weight").is_not_null())


def _general_index(judged: Judged) -> CheckOutcome:
    latest = latest_components(judged.vintages)
    periods = latest["obs_date"].unique().sort()
    with_general = set(latest.filter(pl.col("level") == "general")["obs_date"].to_list())
    missing = [day for day in periods.to_list() if day not in with_general]
    return CheckOutcome(
        not missing, {"periods": periods.len(), "periods_without_general": len(missing), "sample": sample(missing)}
    )


def _no_negative_weight(judged: Judged) -> CheckOutcome:
    negative = latest_components(judged.vintages).filter(pl.col("weight") < 0)
    return CheckOutcome(
        negative.is_empty(),
        {
            "negative_weights": negative.height,
            "sample": [
                f"{d} {c} {n}={w}"
                for d, c, n, w in negative.select("obs_date", "component", "name", "weight").head(5).iter_rows()
            ],
        },
    )


def _weights_sum_to_100(judged: Judged) -> CheckOutcome:
    sums = (
        latest_components(judged.vintages)
        .filter(pl.col("level").is_in(SHARE_LEVELS))
        .group_by("obs_date", "level")
        .agg(total=pl.col("weight").sum(), count=pl.len(), weighed=pl.col("weight").count())
        .with_columns(off=(pl.col("total") - 100).abs())
        .sort("obs_date", "level")
    )
    bad = sums.filter((pl.col("weighed") < pl.col("count")) | (pl.col("off") > pl.col("count") * HALF_WEIGHT_UNIT))
    return CheckOutcome(
        bad.is_empty(),
        {
            "period_levels": sums.height,
            "off_100": bad.height,
            "largest_gap": round(float(sums["off"].max()), 6) if sums.height else 0.0,
            "sample": [
                f"{d} {lvl}: {t:.4f} over {n}"
                for d, lvl, t, n in bad.select("obs_date", "level", "total", "count").head(5).iter_rows()
            ],
        },
    )


def _groups_add_up(judged: Judged) -> CheckOutcome:
    latest = latest_components(judged.vintages)
    groups = (
        latest.filter(pl.col("level") == "group")
        .group_by("obs_date")
        .agg(mean=(pl.col("value") * pl.col("weight")).sum() / pl.col("weight").sum())
    )
    general = latest.filter(pl.col("level") == "general").select("obs_date", general=pl.col("value"))
    joined = general.join(groups, on="obs_date").with_columns(gap=(pl.col("general") - pl.col("mean")).abs())
    bad = joined.filter(pl.col("gap") > CHANGE_TOLERANCE).sort("obs_date")
    return CheckOutcome(
        bad.is_empty(),
        {
            "periods": joined.height,
            "inconsistent_periods": bad.height,
            "largest_gap": round(float(joined["gap"].max()), 6) if joined.height else 0.0,
            "sample": [
                f"{d}: general {g} vs groups {m:.4f}"
                for d, g, m in bad.select("obs_date", "general", "mean").head(5).iter_rows()
            ],
        },
    )


RULES = (
    *common.RULES,
    CheckRule(
        "general_index_every_period",
        "Every period with components has the general index among them.",
        "WARN",
        _general_index,
    ),
    CheckRule("no_negative_weights", "No component weighs less than nothing.", "ERROR", _no_negative_weight),
    CheckRule(
        "weights_sum_to_100",
        "In every period, the weights of each level (groups, subgroups, items, subitems) sum to 100 within the "
        "rounding of the published weights, and none of them is missing.",
        "WARN",
        _weights_sum_to_100,
    ),
    CheckRule(
        "groups_add_up_to_the_general_index",
        "In every period, the weighted mean of the groups' changes is the general index's change within the "
        "rounding of the published changes.",
        "WARN",
        _groups_add_up,
    ),
)
