"""Data-quality rules of curve datasets (the curve_points shape): pure functions of the stored vintages.

A curve is read from the latest vintage of each (curve_date, point); a vintage whose values are all null is a
withdrawal and leaves no point. Value rules (ranges, prices, the bid/ask convention) judge every stored vintage, as
any of them answers some point-in-time query. The source conventions apply to the points that carry them: the
Tesouro Direto buy/sell pair to points with both sides, the Treasury tenor order to points with a tenor.
"""

from __future__ import annotations

import polars as pl

from macro_assets.quality import CheckOutcome, CheckRule, Judged, sample
from macro_assets.shapes import CURVE_POINTS

KEY = ["curve_date", "point"]
PRICES = ("buy_price", "sell_price", "base_price")


def latest(vintages: pl.DataFrame) -> pl.DataFrame:
    """The latest vintage of every (curve_date, point), ties kept (two vintages at one release time are a fault the
    uniqueness rule reports), withdrawals dropped."""
    newest = vintages.filter(pl.col("release_time") == pl.col("release_time").max().over(KEY))
    return newest.filter(pl.any_horizontal(pl.col(CURVE_POINTS.value_columns).is_not_null()))


def _labels(frame: pl.DataFrame) -> list[str]:
    return [f"{day} {point}" for day, point in frame.select(KEY).unique(maintain_order=True).iter_rows()]


def _unique(judged: Judged) -> CheckOutcome:
    newest = judged.vintages.filter(pl.col("release_time") == pl.col("release_time").max().over(KEY))
    repeated = newest.filter(pl.len().over(KEY) > 1).sort(KEY)
    return CheckOutcome(
        repeated.is_empty(), {"repeated_points": len(_labels(repeated)), "sample": sample(_labels(repeated))}
    )


def _maturities(judged: Judged) -> CheckOutcome:
    points = latest(judged.vintages)
    # A bond point names its maturity ("LTN 2025-01-01"): the label and the column must agree.
    named = pl.col("point").str.extract(r" (\d{4}-\d{2}-\d{2})$").str.to_date("%Y-%m-%d", strict=False)
    bad = points.filter(
        pl.col("maturity_date").is_null()
        | (pl.col("maturity_date") < pl.col("curve_date"))
        | (named.is_not_null() & (named != pl.col("maturity_date")))
    ).sort(KEY)
    return CheckOutcome(
        bad.is_empty(),
        {
            "checked_points": points.height,
            "bad_maturities": bad.height,
            "sample": sample(f"{d} {p} matures {m}" for d, p, m in bad.select(*KEY, "maturity_date").iter_rows()),
        },
    )


def _rates_in_range(judged: Judged) -> CheckOutcome:
    low, high = judged.dataset.plausible_range
    melted = judged.vintages.unpivot(index=KEY, on=list(CURVE_POINTS.ranged), variable_name="field").drop_nulls("value")
    # NaN sorts above every number in polars, so it falls outside the range too.
    bad = melted.filter(~pl.col("value").is_between(low, high))
    return CheckOutcome(
        bad.is_empty(),
        {
            "plausible_range": f"[{low}, {high}]",
            "checked_values": melted.height,
            "out_of_range": bad.height,
            "sample": sample(f"{d} {p} {f}={v}" for d, p, f, v in bad.sort(*KEY, "field").iter_rows()),
        },
    )


def _prices_positive(judged: Judged) -> CheckOutcome:
    melted = judged.vintages.unpivot(index=KEY, on=list(PRICES), variable_name="field").drop_nulls("value")
    bad = melted.filter((pl.col("value") <= 0) | ~pl.col("value").is_finite())
    return CheckOutcome(
        bad.is_empty(),
        {
            "checked_prices": melted.height,
            "not_positive": bad.height,
            "sample": sample(f"{d} {p} {f}={v}" for d, p, f, v in bad.sort(*KEY, "field").iter_rows()),
        },
    )


def _no_missing_curves(judged: Judged) -> CheckOutcome:
    dataset = judged.dataset
    present = set(latest(judged.vintages)["curve_date"].to_list())
    due = [
        d for d in dataset.expected_dates(judged.start, judged.end) if dataset.estimated_release(d) <= judged.judged_at
    ]
    missing = [d for d in due if d not in present]
    return CheckOutcome(
        not missing,
        {
            "calendar": dataset.calendar or dataset.frequency,
            "expected_curves": len(due),
            "missing_curves": len(missing),
            "sample_missing": sample(d.isoformat() for d in missing),
        },
    )


def _sell_not_below_buy(judged: Judged) -> CheckOutcome:
    both = judged.vintages.filter(pl.col("buy_rate").is_not_null() & pl.col("sell_rate").is_not_null())
    priced = judged.vintages.filter(pl.col("buy_price").is_not_null() & pl.col("sell_price").is_not_null())
    bad_rates = both.filter(pl.col("sell_rate") < pl.col("buy_rate")).sort(KEY)
    bad_prices = priced.filter(pl.col("buy_price") < pl.col("sell_price")).sort(KEY)
    return CheckOutcome(
        bad_rates.is_empty() and bad_prices.is_empty(),
        {
            "checked_points": both.height,
            "sell_rate_below_buy_rate": bad_rates.height,
            "buy_price_below_sell_price": bad_prices.height,
            "sample": sample(
                [
                    *(
                        f"{d} {p} sell {s} < buy {b}"
                        for d, p, b, s in bad_rates.select(*KEY, "buy_rate", "sell_rate").iter_rows()
                    ),
                    *(
                        f"{d} {p} buy price {b} < sell price {s}"
                        for d, p, b, s in bad_prices.select(*KEY, "buy_price", "sell_price").iter_rows()
                    ),
                ]
            ),
        },
    )


def _tenors_increase(judged: Judged) -> CheckOutcome:
    points = (
        latest(judged.vintages)
        .filter(pl.col("tenor_years").is_not_null())
        .sort("curve_date", "maturity_date", "tenor_years")
    )
    following = [
        pl.col(c).shift(-1).over("curve_date").alias(f"next_{c}") for c in ("point", "maturity_date", "tenor_years")
    ]
    pairs = points.with_columns(following).drop_nulls("next_point")
    bad = pairs.filter(
        (pl.col("next_maturity_date") <= pl.col("maturity_date"))
        | (pl.col("next_tenor_years") <= pl.col("tenor_years"))
    )
    return CheckOutcome(
        bad.is_empty(),
        {
            "checked_points": points.height,
            "out_of_order": bad.height,
            "sample": sample(
                f"{d} {p} ({m}, {t:g}y) then {np} ({nm}, {nt:g}y)"
                for d, p, m, t, np, nm, nt in bad.select(
                    "curve_date",
                    "point",
                    "maturity_date",
                    "tenor_years",
                    "next_point",
                    "next_maturity_date",
                    "next_tenor_years",
                ).iter_rows()
            ),
        },
    )


RULES = (
    CheckRule("curve_points_unique", "Each (curve date, point) has one latest vintage.", "ERROR", _unique),
    CheckRule(
        "curve_points_have_maturities",
        "Every point of a curve matures on or after its curve date, on the date its label names (bond points), "
        "so the curve orders by maturity.",
        "ERROR",
        _maturities,
    ),
    CheckRule(
        "rates_in_plausible_range",
        "Every stored rate, buy rate and sell rate is finite and inside the catalog's plausible range.",
        "ERROR",
        _rates_in_range,
    ),
    CheckRule(
        "prices_positive",
        "Every stored buy, sell and base price is a finite positive number.",
        "ERROR",
        _prices_positive,
    ),
    CheckRule(
        "no_missing_curves",
        "Every business day of the calendar released by the judging instant has a curve.",
        "WARN",
        _no_missing_curves,
    ),
    CheckRule(
        "sell_rate_not_below_buy_rate",
        "Where a bond has both sides (Tesouro Direto), the sell rate is at least the buy rate and the buy "
        "price at least the sell price.",
        "ERROR",
        _sell_not_below_buy,
    ),
    CheckRule(
        "tenors_increase_with_maturity",
        "Within a par curve (US Treasury), tenor_years increases strictly with maturity_date.",
        "ERROR",
        _tenors_increase,
    ),
)
