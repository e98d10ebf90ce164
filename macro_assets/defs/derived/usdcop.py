"""USD/COP (seed 003): the model features on the 5-minute bars and the daily macro panel, as point-in-time assets.

Features (`inference_features_5m`): analytics/features.usdcop_features over twelvedata.USDCOP_5min with
yahoo.DXY_1d and yahoo.VIX_1d as the macro inputs, read at the run's instant. A bar's features are knowable at
max(its close, the latest release among the bars up to it); the macro z-scores it uses were released by its close
(the as-of join of usdcop_features), so they never make it later. Only bars whose every window is filled are
emitted. A revision of an input (or a bar first released after its close) gives the bars it changes a new
vintage released at that instant (feature_vintages), so as of any T the stored features are the features of the
inputs as known at T. Stored as Parquet frames in the object store, one object per UTC day of bars holding every
vintage (release_time per row): a row holds a dozen features of one instant, which no warehouse shape keeps
(observations are dated, bars hold prices). The object is a function of the input vintages, which are never
overwritten, so rewriting it on a re-run loses nothing.

Panel (`macro_indicators_daily`): each seed column from the catalog dataset it names, each as known at the close of
the day in America/Bogota (the latest value of a date up to that day among those released by then), Parquet per
day through the frames IO manager of the rates panel.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
import polars as pl

from macro_assets.analytics import pit
from macro_assets.analytics.features import BAR_LENGTH, CLIP, SESSION_TIMEZONE, usdcop_features
from macro_assets.catalog import load_catalog
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.derived.fx_vol import stored_frames
from macro_assets.defs.derived.panels import FRAMES_IO_MANAGER, wide_panel
from macro_assets.defs.io_managers import ParquetObjectStoreIOManager, run_read_instant
from macro_assets.defs.partitions import inclusive_dates, partitions_for
from macro_assets.defs.previews import features_chart, panel_chart
from macro_assets.defs.resources import ObjectStoreResource, WarehouseResource
from macro_assets.shapes import UTC_DATETIME

BARS_ID = "twelvedata.USDCOP_5min"
MACRO_IDS = {"dxy_z": "yahoo.DXY_1d", "vix_z": "yahoo.VIX_1d"}
FEATURES = [
    "ret_1h",
    "ret_4h",
    "ret_1d",
    "volatility_20",
    "rsi_14",
    "atr_pct",
    "dxy_z",
    "vix_z",
    "hour_sin",
    "hour_cos",
    "dow_sin",
]
FEATURES_NOT_SOURCED = {
    "usdmxn_ret_1h": "only daily USD/MXN exists here (yahoo.USDMXN_1d): a 1-hour return is not computable",
    "embi_z": "no EMBI Colombia source",
}
FEATURES_KEY = dg.AssetKey(["derived", "usdcop_features_5min"])
FEATURES_FRAMES_IO_MANAGER = "usdcop_features_frames_io_manager"

# The seed names these eight columns of macro_indicators_daily (it elides the other 29).
SEED_PANEL_COLUMNS = {
    "comm_agri_coffee_glb_d_coffee": "yahoo.COFFEE_1d",
    "comm_metal_gold_glb_d_gold": "yahoo.GOLD_1d",
    "comm_oil_brent_glb_d_brent": "yahoo.BRENT_1d",
    "comm_oil_wti_glb_d_wti": "yahoo.WTI_1d",
    "fxrt_index_dxy_usa_d_dxy": "yahoo.DXY_1d",
    "volt_vix_usa_d_vix": "yahoo.VIX_1d",
    "fxrt_spot_usdmxn_mex_d_usdmxn": "yahoo.USDMXN_1d",
}
# Columns of datasets the catalog has that the seed's elided list would hold, named here in its scheme
# (<class>_<kind>_<name>_<country>_d_<short>): ours, not the seed's.
SCHEME_PANEL_COLUMNS = {
    "fxrt_spot_usdcop_col_d_usdcop": "yahoo.USDCOP_1d",
    "fxrt_spot_usdbrl_bra_d_usdbrl": "yahoo.USDBRL_1d",
    "eqty_index_spx_usa_d_spx": "yahoo.SPX_1d",
    "finc_bond_ust10y_usa_d_ust10y": "fred.DGS10",
    "finc_rate_fedfunds_usa_d_fedfunds": "fred.DFF",
}
PANEL_COLUMNS = SEED_PANEL_COLUMNS | SCHEME_PANEL_COLUMNS
PANEL_NOT_SOURCED = {"crsk_spread_embi_col_d_embi": "no EMBI Colombia source"}
PANEL_KEY = dg.AssetKey(["panels", "usdcop_macro_daily"])
PANEL_TIMEZONE = ZoneInfo(SESSION_TIMEZONE)


# ---------------------------------------------------------------------------------------------- pure
def daily_series(vintages: pl.DataFrame, id_column: str, time_column: str, value_column: str) -> pl.DataFrame:
    """Vintages of any dated shape as series_id, obs_date, value, release_time (a bar dated by its UTC day)."""
    when = pl.col(time_column)
    return vintages.select(
        series_id=pl.col(id_column),
        obs_date=when.dt.date() if vintages.schema[time_column] != pl.Date else when,
        value=pl.col(value_column),
        release_time=pl.col("release_time"),
    )


def features_with_release(bars: pl.DataFrame, macro: pl.DataFrame) -> pl.DataFrame:
    """usdcop_features of the bars, only where every window is filled, each row with its release_time: the latest
    of its bar's close and the releases of the bars up to it. bar_time, bar_date (UTC), release_time, features."""
    features = usdcop_features(bars, macro, MACRO_IDS)
    released = bars.sort("bar_time").select(
        "bar_time",
        release_time=pl.max_horizontal(pl.col("bar_time") + BAR_LENGTH, pl.col("release_time").cum_max()),
    )
    filled = pl.all_horizontal(pl.col(FEATURES).is_not_null() & pl.col(FEATURES).is_not_nan())
    return (
        features.filter(filled)
        .join(released, on="bar_time", how="left")
        .select("bar_time", pl.col("bar_time").dt.date().alias("bar_date"), "release_time", *FEATURES)
    )


def late_instants(bar_vintages: pl.DataFrame, macro_vintages: pl.DataFrame, instant: dt.datetime) -> list:
    """The instants at which the features of bars already closed can change: a revision (or withdrawal) of a bar
    or a macro value, and a bar first released after its close. At any other release (a bar at its close, a macro
    value's first release) only bars closing at or after it are affected, and they are released no earlier."""
    bars = bar_vintages.sort("bar_time", "release_time").with_columns(
        late=(pl.int_range(pl.len()) > 0).over("bar_time") | (pl.col("release_time") > pl.col("bar_time") + BAR_LENGTH)
    )
    macro = macro_vintages.sort("obs_date", "release_time").with_columns(
        late=(pl.int_range(pl.len()) > 0).over("series_id", "obs_date")
    )
    late = pl.concat([bars.filter("late")["release_time"], macro.filter("late")["release_time"]])
    return late.filter(late <= instant).unique().sort().to_list()


def feature_vintages(bar_vintages: pl.DataFrame, macro_vintages: pl.DataFrame, instant: dt.datetime) -> pl.DataFrame:
    """Every vintage of the features the input vintages released by `instant` give, so that as of any T the stored
    features are features_with_release of the inputs as of T. The features are computed just before each late
    instant and at `instant`; a bar whose features changed across a late instant gains a vintage released then
    (a withdrawal, all features null, when it is no longer computable)."""
    moments = late_instants(bar_vintages, macro_vintages, instant)
    micro = dt.timedelta(microseconds=1)
    vintages, previous = [], None
    for position, moment in enumerate([*(late - micro for late in moments), instant]):
        bars = pit.as_of(bar_vintages, moment, id_column="dataset_id", key_columns=("bar_time",))
        current = features_with_release(bars, pit.as_of(macro_vintages, moment))
        if previous is None:
            vintages.append(current)
        else:
            changed_at = moments[position - 1]
            compared = current.join(previous, on="bar_time", how="left", suffix="_before")
            changed = compared.filter(pl.any_horizontal(pl.col(f).ne_missing(pl.col(f"{f}_before")) for f in FEATURES))
            gone = previous.join(current, on="bar_time", how="anti").with_columns(
                pl.lit(None, pl.Float64).alias(f) for f in FEATURES
            )
            for rows in (changed.select(current.columns), gone):
                vintages.append(rows.with_columns(pl.max_horizontal("release_time", pl.lit(changed_at, UTC_DATETIME))))
        previous = current
    return pl.concat(vintages).sort("bar_time", "release_time")


def features_as_of(vintages: pl.DataFrame, instant: dt.datetime) -> pl.DataFrame:
    """The features known at `instant`: each bar's latest vintage released by then, withdrawn bars left out."""
    return pit.as_of(vintages, instant, id_column="bar_date", key_columns=("bar_time",)).sort("bar_time")


def day_close(day: dt.date) -> dt.datetime:
    """The close of a day: its last instant in America/Bogota, as UTC."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=PANEL_TIMEZONE).astimezone(dt.UTC)


def known_at_closes(vintages: pl.DataFrame, days: list[dt.date], instant: dt.datetime) -> pl.DataFrame:
    """For each day and series, the value of the latest date up to the day among the vintages released by the
    day's close (or `instant`, if earlier): obs_date (the day), series_id, value, known_at (that vintage's
    release_time)."""
    known = []
    for day in days:
        as_known = pit.as_of(vintages, min(day_close(day), instant)).filter(pl.col("obs_date") <= day)
        latest = as_known.sort("obs_date").group_by("series_id", maintain_order=True).last()
        known.append(latest.select(pl.lit(day).alias("obs_date"), "series_id", "value", known_at="release_time"))
    schema = {"obs_date": pl.Date, "series_id": pl.String, "value": pl.Float64, "known_at": UTC_DATETIME}
    return pl.concat(known) if known else pl.DataFrame(schema=schema)


def macro_panel(vintages: pl.DataFrame, start: dt.date, end: dt.date, instant: dt.datetime) -> pl.DataFrame:
    """The panel's rows for the calendar days of [start, end]: obs_date, one column per PANEL_COLUMNS name, and
    known_at, the latest release among the values of the row."""
    days = pl.date_range(start, end, "1d", eager=True).to_list()
    column_of = {series_id: column for column, series_id in PANEL_COLUMNS.items()}
    long = known_at_closes(vintages, days, instant).with_columns(pl.col("series_id").replace_strict(column_of))
    wide = wide_panel(long.select("obs_date", "series_id", "value").to_pandas(), PANEL_COLUMNS, start, end)
    known_at = long.group_by("obs_date").agg(pl.col("known_at").max())
    panel = pl.from_pandas(wide.reset_index()).with_columns(pl.col("obs_date").cast(pl.Date))
    return panel.join(known_at, on="obs_date", how="left").sort("obs_date")


# ---------------------------------------------------------------------------------------------- Dagster wiring
def read_features_inputs(warehouse, instant: dt.datetime, end: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every vintage of the bars through `end` and of the macro series released by `instant`."""
    bars = warehouse.bars.vintages(BARS_ID, end=end, as_of=instant, output="polars")
    macro = warehouse.bars.vintages(list(MACRO_IDS.values()), end=end, as_of=instant, output="polars")
    return bars, daily_series(macro, "dataset_id", "bar_time", "close")


def read_panel_inputs(warehouse, instant: dt.datetime, end: dt.date) -> pl.DataFrame:
    """Every vintage of the panel's series through `end` released by `instant`, as one long frame."""
    catalog = load_catalog()
    by_shape: dict[str, list[str]] = {}
    for series_id in PANEL_COLUMNS.values():
        by_shape.setdefault(catalog.get(series_id).kind, []).append(series_id)
    frames = []
    for kind, ids in by_shape.items():
        vintages = warehouse.reader(kind).vintages(ids, end=end, as_of=instant, output="polars")
        if kind == "bars":
            frames.append(daily_series(vintages, "dataset_id", "bar_time", "close"))
        else:
            frames.append(daily_series(vintages, "series_id", "obs_date", "value"))
    return pl.concat(frames)


def build_features_asset() -> dg.AssetsDefinition:
    catalog = load_catalog()
    bars = catalog.get(BARS_ID)
    inputs = [bars, *(catalog.get(series_id) for series_id in MACRO_IDS.values())]

    @dg.asset(
        key=FEATURES_KEY,
        group_name="usdcop",
        description="USD/COP model features on the 5-minute bars (seed's inference_features_5m, normalised and "
        f"clipped to [-{CLIP:g}, {CLIP:g}]), macro z-scores as known at each bar's close. Emitted once every window "
        "is filled; each row released at max(bar close, latest bar release up to it). Parquet per UTC day.",
        deps=[asset_key(spec) for spec in inputs],
        partitions_def=partitions_for(bars),
        backfill_policy=dg.BackfillPolicy.single_run(),
        io_manager_key=FEATURES_FRAMES_IO_MANAGER,
        kinds={"parquet", "s3", "python"},
        owners=["team:macro-research"],
        tags={"freq": "intraday", "shape": "features"},
        metadata={
            "inputs": ", ".join(spec_id for spec_id in (BARS_ID, *MACRO_IDS.values())),
            "features": ", ".join(FEATURES),
            "not_sourced": dg.MetadataValue.json(FEATURES_NOT_SOURCED),
        },
    )
    def usdcop_features_5min(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> pd.DataFrame:
        start, end = inclusive_dates(context.partition_time_window)
        instant = run_read_instant(context.instance, context.run.run_id, context.run.tags)
        bar_vintages, macro_vintages = read_features_inputs(warehouse.open(), instant, end)
        vintages = feature_vintages(bar_vintages, macro_vintages, instant)
        features = vintages.filter(pl.col("bar_date").is_between(start, end))
        latest = features_as_of(features, instant)
        metadata = {
            "read_instant": instant.isoformat(),
            "bars": latest.height,
            "vintages": features.height,
            "not_sourced": dg.MetadataValue.json(FEATURES_NOT_SOURCED),
        }
        if latest.height:
            chart = features_chart(latest.tail(600), ["ret_1h", "rsi_14", "dxy_z", "vix_z", "hour_sin"])
            metadata["chart"] = dg.MetadataValue.md(f"![features](data:image/png;base64,{chart})")
        context.add_asset_metadata(metadata, partition_key=context.partition_keys[-1])
        return features.to_pandas()

    return usdcop_features_5min


def build_features_check() -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=FEATURES_KEY,
        name="filled_finite_and_clipped",
        description=f"Every stored vintage has every feature (windows filled), finite, within [-{CLIP:g}, {CLIP:g}] "
        "(or none: a withdrawal), released no earlier than its bar's close.",
    )
    def features_check(
        usdcop_features_frames_io_manager: dg.ResourceParam[ParquetObjectStoreIOManager],
    ) -> dg.AssetCheckResult:
        stored = stored_frames(usdcop_features_frames_io_manager, FEATURES_KEY)
        if stored is None:
            return dg.AssetCheckResult(passed=True, metadata={"rows": 0, "note": "nothing stored yet"})
        withdrawn = pl.all_horizontal(pl.col(FEATURES).is_null())
        filled = pl.all_horizontal(pl.col(FEATURES).is_finite().fill_null(False) & pl.col(FEATURES).abs().le(CLIP))
        bad = stored.filter(~(withdrawn | filled) | (pl.col("release_time") < pl.col("bar_time") + BAR_LENGTH))
        return dg.AssetCheckResult(
            passed=bad.is_empty(),
            metadata={"rows": stored.height, "bad_rows": bad.height, "first_bad": str(bad["bar_time"].min())},
        )

    return features_check


def build_panel_asset() -> dg.AssetsDefinition:
    catalog = load_catalog()
    inputs = [catalog.get(series_id) for series_id in PANEL_COLUMNS.values()]

    @dg.asset(
        key=PANEL_KEY,
        group_name="panels",
        description="USD/COP daily macro panel (seed's macro_indicators_daily): commodities, FX and risk under the "
        "seed's column names, each as known at the day's close in America/Bogota. Parquet per day.",
        deps=[asset_key(spec) for spec in inputs],
        partitions_def=partitions_for(catalog.get(SEED_PANEL_COLUMNS["fxrt_index_dxy_usa_d_dxy"])),
        backfill_policy=dg.BackfillPolicy.single_run(),
        io_manager_key=FRAMES_IO_MANAGER,
        kinds={"parquet", "s3"},
        owners=["team:macro-research"],
        tags={"freq": "daily", "shape": "panel"},
        metadata={
            "columns": dg.MetadataValue.json(PANEL_COLUMNS),
            "named_by_the_seed": dg.MetadataValue.json(sorted([*SEED_PANEL_COLUMNS, *PANEL_NOT_SOURCED])),
            "not_sourced": dg.MetadataValue.json(PANEL_NOT_SOURCED),
            "day_close": f"end of the day in {SESSION_TIMEZONE}",
        },
    )
    def usdcop_macro_daily(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> pd.DataFrame:
        start, end = inclusive_dates(context.partition_time_window)
        instant = run_read_instant(context.instance, context.run.run_id, context.run.tags)
        panel = macro_panel(read_panel_inputs(warehouse.open(), instant, end), start, end, instant)
        metadata = {
            "read_instant": instant.isoformat(),
            "rows": panel.height,
            "not_sourced": dg.MetadataValue.json(PANEL_NOT_SOURCED),
        }
        if panel.height:
            chart = panel_chart(panel.drop("known_at").tail(130), "USD/COP macro panel, rebased to 100")
            metadata["chart"] = dg.MetadataValue.md(f"![panel](data:image/png;base64,{chart})")
        context.add_asset_metadata(metadata, partition_key=context.partition_keys[-1])
        return panel.to_pandas()

    return usdcop_macro_daily


def build_panel_check() -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=PANEL_KEY,
        name="as_of_equals_recomputation",
        description="Every stored day equals its recomputation from the warehouse as known at that day's close "
        "(and no value of a day was released after its close).",
    )
    def panel_check(
        object_store_io_manager: dg.ResourceParam[ParquetObjectStoreIOManager], warehouse: WarehouseResource
    ):
        stored = stored_frames(object_store_io_manager, PANEL_KEY)
        if stored is None:
            return dg.AssetCheckResult(passed=True, metadata={"days_compared": 0, "note": "nothing stored yet"})
        stored = stored.sort("obs_date")
        first, last = stored["obs_date"].min(), stored["obs_date"].max()
        now = dt.datetime.now(dt.UTC)
        recomputed = macro_panel(read_panel_inputs(warehouse.open(), now, last), first, last, now)
        recomputed = recomputed.filter(pl.col("obs_date").is_in(stored["obs_date"].implode()))
        differing = _differing_days(stored, recomputed)
        late = stored.filter(pl.col("known_at") > pl.col("obs_date").map_elements(day_close, UTC_DATETIME))
        return dg.AssetCheckResult(
            passed=not differing and late.is_empty(),
            metadata={"days_compared": stored.height, "days_differing": len(differing), "sample": differing[:5]},
        )

    return panel_check


def _differing_days(stored: pl.DataFrame, recomputed: pl.DataFrame) -> list[str]:
    joined = stored.join(recomputed, on="obs_date", how="full", suffix="_recomputed", coalesce=True)

    def same(column: str) -> pl.Expr:
        held, again = pl.col(column), pl.col(f"{column}_recomputed")
        return (held.is_null() & again.is_null()) | ((held - again).abs() <= 1e-12).fill_null(False)

    differs = joined.filter(~pl.all_horizontal(same(c) for c in PANEL_COLUMNS))
    return [str(day) for day in differs["obs_date"].sort()]


def usdcop_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[build_features_asset(), build_panel_asset()],
        asset_checks=[build_features_check(), build_panel_check()],
        resources={
            FEATURES_FRAMES_IO_MANAGER: ParquetObjectStoreIOManager(
                object_store=ObjectStoreResource(), date_column="bar_date"
            )
        },
    )
