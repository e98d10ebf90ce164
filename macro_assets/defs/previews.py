"""What a materialization shows of the data itself: a small chart and a table preview of the stored window.

Series chart first release against latest where they differ; curves draw the newest curve by maturity; bars
draw the close. The chart is a PNG inlined in Markdown (Dagster has no plot metadata type); the preview is a
metadata table, which the UI shows inline.
"""

from __future__ import annotations

import base64
import io

import dagster as dg
import polars as pl

from macro_assets.catalog import DatasetSpec

PREVIEW_ROWS = 8


def _png(draw) -> str:
    import matplotlib  # imported when a chart is drawn: it costs the definitions' import nothing

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(6, 2.2), dpi=80)
    try:
        draw(axes)
        axes.grid(alpha=0.3)
        axes.tick_params(labelsize=7)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=7, frameon=False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        pyplot.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _latest(vintages: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return vintages.sort([*keys, "release_time"]).group_by(keys, maintain_order=True).last()


def chart(dataset: DatasetSpec, vintages: pl.DataFrame) -> str | None:
    """A base64 PNG of the stored window, or None when nothing is stored."""
    if vintages.is_empty():
        return None
    if dataset.kind == "observations":
        known = vintages.filter(pl.col("value").is_not_null()).sort("obs_date", "release_time")
        first = known.group_by("obs_date", maintain_order=True).first()
        last = known.group_by("obs_date", maintain_order=True).last()

        def draw(axes):
            axes.plot(last["obs_date"].to_list(), last["value"].to_list(), lw=1.2, label="latest")
            if not first["value"].equals(last["value"]):
                axes.plot(first["obs_date"].to_list(), first["value"].to_list(), lw=0.9, ls="--", label="first release")
            axes.set_title(f"{dataset.id} ({dataset.unit})", fontsize=8)
    elif dataset.kind == "curve":
        latest = _latest(vintages, ["curve_date", "point"]).filter(pl.col("rate").is_not_null())
        newest = latest.filter(pl.col("curve_date") == latest["curve_date"].max()).sort("maturity_date")

        def draw(axes):
            axes.plot(newest["maturity_date"].to_list(), newest["rate"].to_list(), marker="o", ms=3, lw=1.2)
            axes.set_title(f"{dataset.id} on {newest['curve_date'].max()} (rate by maturity)", fontsize=8)
    else:
        latest = _latest(vintages, ["bar_time"]).filter(pl.col("close").is_not_null())

        def draw(axes):
            axes.plot(latest["bar_time"].to_list(), latest["close"].to_list(), lw=1.0)
            axes.set_title(f"{dataset.id} close ({dataset.unit})", fontsize=8)

    return _png(draw)


def preview(dataset: DatasetSpec, vintages: pl.DataFrame) -> dg.MetadataValue:
    """The newest rows of the window, latest vintage each, as a table the UI shows inline (a curve's points by
    maturity); floats to 6 significant digits, dates and instants as ISO text."""
    keys = dataset.shape.key_columns
    order = ["curve_date", "maturity_date", "point"] if dataset.kind == "curve" else keys
    latest = _latest(vintages, keys).sort(order, nulls_last=True).tail(PREVIEW_ROWS)
    columns = [
        *keys,
        *(c for c in dataset.shape.value_columns if latest[c].null_count() < latest.height),
        "release_time",
        "release_basis",
    ]
    records = [
        dg.TableRecord({c: _cell(v) for c, v in row.items()}) for row in latest.select(columns).iter_rows(named=True)
    ]
    schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns])
    return dg.MetadataValue.table(records=records, schema=schema)


def _cell(value) -> str:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)
