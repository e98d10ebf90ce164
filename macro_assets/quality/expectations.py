"""Rules for BCB Focus expectations: the rules every shape shares, then its own.

Focus publishes the statistics of the respondents' forecasts, so their order is arithmetic, not judgement: the
median and the mean lie between the minimum and the maximum, a standard deviation is never negative, and a
statistic needs at least one respondent. A stored vintage breaking one of them was misread (a shifted field, a
swapped column) and would mislead every surprise computed against it.
"""

from __future__ import annotations

import polars as pl

from macro_assets.quality import CheckOutcome, CheckRule, Judged, common, sample
from macro_assets.shapes import EXPECTATIONS

# What must hold of every published vintage, by the name a failure is reported under; a null statistic fails too.
CONSISTENT = {
    "median_outside_min_max": pl.col("median").is_between(pl.col("minimum"), pl.col("maximum")),
    "mean_outside_min_max": pl.col("mean").is_between(pl.col("minimum"), pl.col("maximum")),
    "negative_std_dev": pl.col("std_dev") >= 0,
    "no_respondents": pl.col("respondents") > 0,
}


def _statistics_consistent(judged: Judged) -> CheckOutcome:
    published = judged.vintages.filter(pl.any_horizontal(pl.col(EXPECTATIONS.value_columns).is_not_null()))
    verdicts = published.with_columns(**{name: (~holds).fill_null(True) for name, holds in CONSISTENT.items()}).filter(
        pl.any_horizontal(list(CONSISTENT))
    )
    described = (
        f"{row['survey_date']} {row['reference']} basis {row['calculation_basis']}: "
        f"{', '.join(name for name in CONSISTENT if row[name])} (min {row['minimum']}, median {row['median']}, "
        f"mean {row['mean']}, max {row['maximum']}, std {row['std_dev']}, respondents {row['respondents']})"
        for row in verdicts.head(5).iter_rows(named=True)
    )
    return CheckOutcome(
        verdicts.is_empty(),
        {
            "checked_vintages": published.height,
            "inconsistent_vintages": verdicts.height,
            **{name: int(verdicts[name].sum()) for name in CONSISTENT},
            "sample": sample(described),
        },
    )


RULES = (
    *common.RULES,
    CheckRule(
        "focus_statistics_consistent",
        "Every stored Focus statistic is in order: minimum <= median <= maximum, minimum <= mean <= maximum, "
        "standard deviation >= 0 and respondents > 0.",
        "ERROR",
        _statistics_consistent,
    ),
)
