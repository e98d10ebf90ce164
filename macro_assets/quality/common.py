"""Rules that hold for a dataset of any shape, judged over its key columns and ranged values: one latest vintage
per key, no vintage released before its key's period could be known, every ranged value finite and plausible.
A shape's own module adds what only it can say (Focus statistics in order, positions summing to open interest)."""

from __future__ import annotations

import polars as pl

from macro_assets.quality import CheckOutcome, CheckRule, Judged, sample


def _key(judged: Judged) -> list[str]:
    return judged.dataset.shape.key_columns


def _described(row: dict, columns: list[str]) -> str:
    return " ".join(f"{name}={row[name]}" for name in columns)


def _duplicates(judged: Judged) -> CheckOutcome:
    key = [*_key(judged), "release_time"]
    duplicated = judged.vintages.filter(pl.struct(key).is_duplicated())
    return CheckOutcome(
        duplicated.is_empty(),
        {
            "duplicate_rows": duplicated.height,
            "sample": [_described(row, key) for row in duplicated.head(5).iter_rows(named=True)],
        },
    )


def _plausible(judged: Judged) -> CheckOutcome:
    low, high = judged.dataset.plausible_range
    columns = list(judged.dataset.shape.ranged)
    if not columns or judged.vintages.is_empty():
        return CheckOutcome(True, {"plausible_range": f"[{low}, {high}]", "out_of_range": 0, "columns": columns})
    outside = pl.any_horizontal(
        [pl.col(c).is_not_null() & (~pl.col(c).is_finite() | ~pl.col(c).is_between(low, high)) for c in columns]
    )
    bad = judged.vintages.filter(outside)
    return CheckOutcome(
        bad.is_empty(),
        {
            "plausible_range": f"[{low}, {high}]",
            "columns": columns,
            "out_of_range": bad.height,
            "sample": [_described(row, [*_key(judged), *columns]) for row in bad.head(5).iter_rows(named=True)],
        },
    )


def _released_in_the_future(judged: Judged) -> CheckOutcome:
    """A vintage dated after the fetch that stored it would be look-ahead in every read before that instant."""
    late = judged.vintages.filter(pl.col("release_time") > judged.judged_at)
    return CheckOutcome(
        late.is_empty(),
        {
            "judged_at": judged.judged_at.isoformat(),
            "future_vintages": late.height,
            "sample": sample(t.isoformat() for t in late["release_time"].head(5)),
        },
    )


RULES = (
    CheckRule(
        "no_duplicate_vintages",
        "No two stored rows share a key and a release time: each key has one vintage per release.",
        "ERROR",
        _duplicates,
    ),
    CheckRule(
        "values_in_plausible_range",
        "Every stored value the catalog's plausible range applies to is finite and inside it.",
        "ERROR",
        _plausible,
    ),
    CheckRule(
        "no_future_vintages",
        "No stored vintage is released after the instant the data was fetched.",
        "ERROR",
        _released_in_the_future,
    ),
)
