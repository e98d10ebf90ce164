"""What a materialization shows of the data itself: a small chart and a table preview of the stored window.

Series chart first release against latest where they differ; curves draw the newest curve by maturity; bars
draw the close; expectations the median of the reference surveyed most often; index components the general index;
positions each category's net long; Databento records their prices. The chart is a PNG inlined in Markdown
(Dagster has no plot metadata type); the preview is a metadata table, which the UI shows inline.
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


def _most_frequent(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """The rows of the value of `column` that has the most rows: one line of a chart of many."""
    top = frame[column].value_counts(sort=True)[column][0]
    return frame.filter(pl.col(column) == top)


def _series_draw(dataset: DatasetSpec, vintages: pl.DataFrame):
    known = vintages.filter(pl.col("value").is_not_null()).sort("obs_date", "release_time")
    first = known.group_by("obs_date", maintain_order=True).first()
    last = known.group_by("obs_date", maintain_order=True).last()

    def draw(axes):
        axes.plot(last["obs_date"].to_list(), last["value"].to_list(), lw=1.2, label="latest")
        if not first["value"].equals(last["value"]):
            axes.plot(first["obs_date"].to_list(), first["value"].to_list(), lw=0.9, ls="--", label="first release")
        axes.set_title(f"{dataset.id} ({dataset.unit})", fontsize=8)

    return draw


def _curve_draw(dataset: DatasetSpec, vintages: pl.DataFrame):
    latest = _latest(vintages, ["curve_date", "point"]).filter(pl.col("rate").is_not_null())
    newest = latest.filter(pl.col("curve_date") == latest["curve_date"].max()).sort("maturity_date")

    def draw(axes):
        axes.plot(newest["maturity_date"].to_list(), newest["rate"].to_list(), marker="o", ms=3, lw=1.2)
        axes.set_title(f"{dataset.id} on {newest['curve_date'].max()} (rate by maturity)", fontsize=8)

    return draw


def _line_draw(x: str, y: str, title: str, rows: pl.DataFrame):
    def draw(axes):
        axes.plot(rows[x].to_list(), rows[y].to_list(), lw=1.0)
        axes.set_title(title, fontsize=8)

    return draw


def _bars_draw(dataset: DatasetSpec, vintages: pl.DataFrame):
    latest = _latest(vintages, ["bar_time"]).filter(pl.col("close").is_not_null())
    return _line_draw("bar_time", "close", f"{dataset.id} close ({dataset.unit})", latest)


def _expectations_draw(dataset: DatasetSpec, vintages: pl.DataFrame):
    # The reference surveyed most often: how its median moved from survey to survey.
    known = _latest(vintages, dataset.shape.key_columns).filter(pl.col("median").is_not_null())
    line = _most_frequent(known.filter(pl.col("calculation_basis") == known["calculation_basis"].min()), "reference")
    title = f"{dataset.id} median for {line['reference'][0]} by survey date ({dataset.unit})"
    return _line_draw("survey_date", "median", title, line.sort("survey_date"))


def _components_draw(dataset: DatasetSpec, vintages: pl.DataFrame):
    known = _latest(vintages, dataset.shape.key_columns).filter(pl.col("value").is_not_null())
    general = known.filter(pl.col("level") == "general")
    line = general if general.height else _most_frequent(known, "component")
    title = f"{dataset.id}: {line['name'][0] or line['component'][0]} ({dataset.unit})"
    return _line_draw("obs_date", "value", title, line.sort("obs_date"))


def _positions_draw(dataset: DatasetSpec, vintages: pl.DataFrame):
    known = _latest(vintages, dataset.shape.key_columns).filter(pl.col("long").is_not_null())
    nets = known.with_columns(net=pl.col("long") - pl.col("short")).sort("report_date")

    def draw(axes):
        for category, rows in nets.group_by("category", maintain_order=True):
            axes.plot(rows["report_date"].to_list(), rows["net"].to_list(), lw=1.0, label=category[0])
        axes.set_title(f"{dataset.id} net long by category (contracts)", fontsize=8)

    return draw


def _prices_draw(dataset: DatasetSpec, vintages: pl.DataFrame):
    known = vintages.filter(pl.col("price").is_not_null()).sort("event_time")
    if "stat_type" in known.columns:
        known = _most_frequent(known, "stat_type")
    return _line_draw("event_time", "price", f"{dataset.id} price ({dataset.unit})", known)


# A chart per kind; an instrument definition is a table of facts, with nothing to draw.
CHARTS = {
    "observations": _series_draw,
    "curve": _curve_draw,
    "bars": _bars_draw,
    "expectations": _expectations_draw,
    "index_components": _components_draw,
    "positions": _positions_draw,
    "trades": _prices_draw,
    "tbbo": _prices_draw,
    "statistics": _prices_draw,
}


def chart(dataset: DatasetSpec, vintages: pl.DataFrame) -> str | None:
    """A base64 PNG of the stored window, or None when nothing is stored or the kind has nothing to draw."""
    charted = CHARTS.get(dataset.kind)
    if vintages.is_empty() or charted is None:
        return None
    return _png(charted(dataset, vintages))


def zscore_chart(dataset: DatasetSpec, vintages: pl.DataFrame, bands: tuple[float, ...] = (1.0, 2.0)) -> str:
    """A base64 PNG of a z-score series (the series chart) over dotted lines at plus and minus each of `bands`
    standard deviations, so how unusual a value is reads off the picture."""
    series = _series_draw(dataset, vintages)

    def draw(axes):
        series(axes)
        for band in bands:
            for level in (band, -band):
                axes.axhline(level, color="dimgrey", lw=0.9, ls=":")

    return _png(draw)


def tenor_chart(title: str, lines: dict[str, pl.DataFrame], markers: dict[str, pl.DataFrame] | None = None) -> str:
    """A base64 PNG of rates by tenor: each frame of `lines` (tenor, rate) a line, each of `markers` its points
    (a fitted curve over the points it was fitted to)."""

    def draw(axes):
        for label, rows in (markers or {}).items():
            axes.plot(rows["tenor"].to_list(), rows["rate"].to_list(), "o", ms=3, label=label)
        for label, rows in lines.items():
            axes.plot(rows["tenor"].to_list(), rows["rate"].to_list(), lw=1.2, label=label)
        axes.set_xlabel("tenor (years)", fontsize=7)
        axes.set_title(title, fontsize=8)

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


def smile_chart(surface: pl.DataFrame) -> str:
    """The vol smile of every tenor of the newest quote date of a strike-space surface (fx_vol.smile_strikes
    columns): vol in % against strike, one line per tenor, shortest first."""
    newest = surface.filter(pl.col("quote_date") == surface["quote_date"].max()).sort("time", "strike")

    def draw(axes):
        for (tenor,), smile in newest.group_by("tenor", maintain_order=True):
            axes.plot(smile["strike"].to_list(), (smile["vol"] * 100).to_list(), marker="o", ms=3, lw=1.0, label=tenor)
        axes.set_title(f"vol smile by tenor on {newest['quote_date'][0]} (vol %, by strike)", fontsize=8)

    return _png(draw)


def features_chart(features: pl.DataFrame, columns: list[str]) -> str:
    """Model features bar after bar, one line each (their common scale: clipped to [-5, 5]). The x axis counts
    bars, so the nights and weekends between sessions take no width."""
    ordered = features.sort("bar_time")
    first, last = ordered["bar_time"][0], ordered["bar_time"][-1]

    def draw(axes):
        for column in columns:
            axes.plot(ordered[column].to_list(), lw=0.6, label=column)
        axes.set_title(f"features by bar, {first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC", fontsize=8)
        axes.set_xlabel("bar", fontsize=7)

    return _png(draw)


def panel_chart(panel: pl.DataFrame, title: str) -> str:
    """Each column of a daily panel rebased to 100 at its first value, so levels of any unit share one axis."""
    ordered = panel.sort("obs_date")

    def draw(axes):
        for column in (c for c in ordered.columns if c != "obs_date"):
            values = ordered[column].drop_nulls()
            if values.len():
                rebased = ordered[column] / values[0] * 100
                axes.plot(ordered["obs_date"].to_list(), rebased.to_list(), lw=0.8, label=column)
        axes.set_title(title, fontsize=8)

    return _png(draw)
