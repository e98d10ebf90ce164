"""The catalog's model as loaded from the packaged files: datasets of every kind, ids and asset paths, release
rules in the source's time zone, instruments' bar times, and errors that name the file, the dataset and the field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from macro_assets.catalog import Catalog, DatasetId, load_catalog, parse_catalog
from macro_assets.catalog.model import INTERVALS, KINDS
from macro_assets.errors import CatalogError, MacroAssetsError, UnknownDataset
from macro_assets.shapes import BARS, OBSERVATIONS

SOURCE_FILE = """
source:
  name: fred
  title: FRED
  owners: ["team:us"]
  requests_per_second: 2
defaults:
  kind: observations
datasets:
"""
ENTRY = """
- code: X
  name: X
  country: US
  frequency: {frequency}
  unit: "%"
  release: {{lag_days: 7, clock: "08:30", timezone: America/New_York}}
  calendar: US
  plausible_range: [0, 10]
"""
INSTRUMENTS = """
instruments:
  USDCOP: {name: USD/COP, asset_class: fx, exchange: SET-FX, currency: COP, timezone: America/Bogota,
           session_open: "08:00", session_close: "13:00", calendar: CO}
"""
BARS_FILE = """
source: {name: twelvedata, title: Twelve Data, owners: ["team:markets"]}
datasets:
- code: USDCOP_5min
  kind: bars
  instrument: USDCOP
  name: USD/COP 5-minute bars
  country: CO
  frequency: intraday
  interval: 5min
  unit: COP per USD
  release: {lag_days: 0, clock: "13:00", timezone: America/Bogota}
  plausible_range: [500, 10000]
"""
# A few datasets of every kind the packaged catalog must keep (the whole list is the catalog itself).
SOME_OF_EACH_KIND = {
    "observations": {"bcb_sgs.432", "bcb_ptax.USD_sell_close", "fred.GDP", "ibge_sidra.ipca_mom"},
    "curve": {"tesouro_direto.br_nominal", "tesouro_direto.br_real", "us_treasury.par_nominal", "us_treasury.par_real"},
    "bars": {"twelvedata.USDCOP_5min", "yahoo.USDBRL_1d", "yahoo.SPX_1d"},
    "expectations": {"bcb_focus.IPCA_annual", "bcb_focus.Selic_meetings"},
    "index_components": {"ibge_sidra.ipca_components"},
    "positions": {"cftc_cot.BRL_legacy", "cftc_cot.UST10Y_tff"},
}
CATALOG = load_catalog()
CATALOG_FILES = Path(__file__).resolve().parents[2] / "macro_assets" / "catalog" / "datasets"


def one_source(entries: str, file_name: str = "fred.yaml") -> Catalog:
    return parse_catalog({file_name: SOURCE_FILE + entries})


# ------------------------------------------------------------------------------------------ the packaged catalog
def test_every_packaged_dataset_loads_with_its_kind():
    for kind, some in SOME_OF_EACH_KIND.items():
        assert some <= {str(spec.id) for spec in CATALOG.of_kind(kind)}, kind
    assert {spec.kind for spec in CATALOG.datasets.values()} == set(KINDS)
    assert set(CATALOG.sources) == {path.stem for path in CATALOG_FILES.glob("*.yaml")}
    for dataset_id, spec in CATALOG.datasets.items():
        assert str(spec.id) == dataset_id and spec.source in CATALOG.sources
        assert spec.shape is KINDS[spec.kind]
        assert spec.plausible_range[0] < spec.plausible_range[1]
        if spec.instrument is not None:
            assert spec.instrument is CATALOG.instruments[spec.instrument.symbol]
        if spec.kind == "bars":
            assert spec.interval in INTERVALS
        else:
            assert spec.interval is None
    assert load_catalog() is CATALOG  # read once per process


def test_partitioning_follows_frequency():
    fred = {code: CATALOG.get(f"fred.{code}").partitioning for code in ("GDP", "CPIAUCSL", "UNRATE", "DGS10")}
    assert fred == {"GDP": "monthly", "CPIAUCSL": "monthly", "UNRATE": "monthly", "DGS10": "daily"}  # GDP: quarterly
    assert CATALOG.get("bcb_focus.IPCA_annual").partitioning == "weekly"
    assert CATALOG.get("twelvedata.USDCOP_5min").partitioning == "daily"  # one session per partition
    assert CATALOG.get("yahoo.SPX_1d").partitioning == "daily"


def test_source_defaults_are_merged_into_every_entry():
    spx = CATALOG.get("yahoo.SPX_1d")  # kind, frequency, interval and release from the file's defaults
    assert (spx.kind, spx.frequency, spx.interval, spx.calendar) == ("bars", "daily", "1d", "NYSE")
    assert (spx.release.clock, spx.release.timezone.key) == (dt.time(17, 0), "America/New_York")
    ibov = CATALOG.get("yahoo.IBOV_1d")  # an entry's own release replaces the default
    assert (ibov.release.clock, ibov.release.timezone.key, ibov.calendar) == (dt.time(18), "America/Sao_Paulo", "BR")
    assert dict(CATALOG.get("tesouro_direto.br_real").params) == {"bond_types": ["NTN-B", "NTN-B Principal"]}


# ------------------------------------------------------------------------------------------ ids and asset paths
def test_dataset_id_and_asset_path_round_trip_for_every_dataset():
    for dataset_id, spec in CATALOG.datasets.items():
        path = spec.id.asset_path
        assert path == [spec.source, spec.code] == dataset_id.split(".")
        assert DatasetId.from_asset_path(path) == spec.id == DatasetId.parse(dataset_id)
        assert DatasetId.from_asset_path(tuple(path)) == spec.id
        assert str(DatasetId.from_asset_path(path)) == dataset_id
    assert DatasetId.parse("bcb_sgs.24363") == DatasetId("bcb_sgs", "24363")
    assert CATALOG.get(DatasetId("fred", "GDP")) is CATALOG.get("fred.GDP")


@pytest.mark.parametrize("text", ["GDP", "fred.", ".GDP", "fred.GDP-x", "fred.GDP.1", "fr ed.GDP", ""])
def test_a_malformed_dataset_id_is_refused(text):
    with pytest.raises(CatalogError, match="must be '<source>.<code>'"):
        DatasetId.parse(text)


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(UnknownDataset, match="unknown dataset 'fred.NOPE'.*fred.GDP") as raised:
        CATALOG.get("fred.NOPE")
    assert isinstance(raised.value, KeyError) and isinstance(raised.value, MacroAssetsError)
    assert str(raised.value).startswith("unknown dataset 'fred.NOPE'")  # not quoted as a KeyError would be


# ------------------------------------------------------------------------------------------ release rules
def test_period_end_and_estimated_release_apply_lag_and_clock_in_the_source_time_zone():
    ipca = CATALOG.get("bcb_sgs.433")  # 10 days after month end, 09:00 São Paulo (UTC-3)
    assert ipca.period_end(dt.date(2018, 2, 1)) == dt.date(2018, 2, 28)
    assert ipca.estimated_release(dt.date(2018, 2, 1)) == dt.datetime(2018, 3, 10, 12, 0, tzinfo=dt.UTC)
    gdp = CATALOG.get("fred.GDP")  # quarterly: dated on the quarter's first month
    assert gdp.period_end(dt.date(2018, 7, 1)) == dt.date(2018, 9, 30)
    # 08:30 New York is 12:30 UTC in summer (EDT) and 13:30 UTC in winter (EST).
    assert gdp.release.at_clock(dt.date(2018, 7, 27)) == dt.datetime(2018, 7, 27, 12, 30, tzinfo=dt.UTC)
    assert gdp.release.at_clock(dt.date(2018, 12, 21)) == dt.datetime(2018, 12, 21, 13, 30, tzinfo=dt.UTC)


def test_earliest_possible_release_is_the_start_of_the_periods_last_local_day():
    ipca = CATALOG.get("bcb_sgs.433")
    # 28 Feb 2018 00:00 in São Paulo: Brazilian summer time ended on 18 Feb, so UTC-3.
    assert ipca.earliest_possible_release(dt.date(2018, 2, 1)) == dt.datetime(2018, 2, 28, 3, tzinfo=dt.UTC)
    ptax = CATALOG.get("bcb_sgs.1")  # daily: published during its own day
    assert ptax.earliest_possible_release(dt.date(2018, 3, 1)) == dt.datetime(2018, 3, 1, 3, tzinfo=dt.UTC)
    assert ptax.estimated_release(dt.date(2018, 3, 1)) == dt.datetime(2018, 3, 1, 16, 10, tzinfo=dt.UTC)


def test_adding_a_dataset_is_one_entry():
    catalog = one_source(ENTRY.format(frequency="monthly"))
    spec = catalog.get("fred.X")
    assert (spec.source, spec.code, spec.kind, spec.partitioning) == ("fred", "X", "observations", "monthly")
    assert spec.id == DatasetId("fred", "X") and spec.shape is OBSERVATIONS
    assert catalog.sources["fred"].requests_per_second == 2.0 and catalog.sources["fred"].owners == ("team:us",)


@pytest.mark.parametrize("written", ["2018-04-01", "'2018-04-01'"])
def test_a_series_that_starts_later_expects_no_dates_before_its_first_date(written):
    catalog = one_source(ENTRY.format(frequency="monthly") + f"  first_date: {written}\n")
    spec = catalog.get("fred.X")
    assert spec.first_date == dt.date(2018, 4, 1)
    assert spec.expected_dates(dt.date(2018, 1, 1), dt.date(2018, 6, 30))[0] == dt.date(2018, 4, 1)
    assert CATALOG.get("fred.SOFR").expected_dates(dt.date(2015, 1, 1), dt.date(2018, 4, 3)) == [
        dt.date(2018, 4, 2),
        dt.date(2018, 4, 3),
    ]


def test_a_first_date_that_is_no_date_is_refused_naming_the_field():
    with pytest.raises(CatalogError, match=r"fred\.X.*first_date.*must be an ISO date"):
        one_source(ENTRY.format(frequency="monthly") + "  first_date: April 2018\n")


# ------------------------------------------------------------------------------------------ instruments
def test_usdcop_has_sixty_five_minute_bars_over_the_bogota_session():
    usdcop = CATALOG.get("twelvedata.USDCOP_5min").instrument
    bars = usdcop.bar_times(dt.date(2024, 3, 26), "5min")  # a Tuesday, a Colombian business day
    # 08:00-12:55 Bogota (UTC-5 all year) = 13:00-17:55 UTC.
    assert len(bars) == 60
    assert bars == [dt.datetime(2024, 3, 26, 13, tzinfo=dt.UTC) + dt.timedelta(minutes=5 * i) for i in range(60)]
    assert (bars[0], bars[-1]) == (
        dt.datetime(2024, 3, 26, 13, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 26, 17, 55, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize(
    "day",
    [dt.date(2024, 3, 25), dt.date(2024, 3, 28), dt.date(2024, 3, 23)],
    ids=["san-jose-observed", "holy-thursday", "saturday"],
)
def test_usdcop_has_no_bars_when_the_colombian_market_is_closed(day):
    assert CATALOG.get("twelvedata.USDCOP_5min").instrument.bar_times(day, "5min") == []


def test_a_bar_dataset_takes_its_calendar_from_its_instrument():
    catalog = parse_catalog({"twelvedata.yaml": BARS_FILE}, INSTRUMENTS)
    spec = catalog.get("twelvedata.USDCOP_5min")
    assert spec.instrument is catalog.instruments["USDCOP"]
    assert (spec.calendar, spec.shape, spec.interval) == ("CO", BARS, "5min")
    assert len(spec.instrument.bar_times(dt.date(2024, 3, 26), "5min")) == 60


# ------------------------------------------------------------------------------------------ errors
def entry(frequency: str = "monthly", old: str = "", new: str = "") -> str:
    return ENTRY.format(frequency=frequency).replace(old, new) if old else ENTRY.format(frequency=frequency)


@pytest.mark.parametrize(
    "entries, message",
    [
        (entry("hourly"), r"dataset fred\.X: field 'frequency' is 'hourly'"),
        (entry("daily", "calendar: US", "calendar: XX"), r"dataset fred\.X: field 'calendar' must be one of"),
        (entry(old="[0, 10]", new="[10, 0]"), r"dataset fred\.X: field 'plausible_range' must be \[min, max\]"),
        (entry(old="[0, 10]", new="zero to ten"), r"dataset fred\.X: field 'plausible_range' must be \[min, max\]"),
        (
            entry(old="America/New_York", new="Mars/Olympus"),
            r"dataset fred\.X: release: field 'timezone' is not a time",
        ),
        (entry(old='"08:30"', new='"8h30"'), r"dataset fred\.X: release: field 'clock' is '8h30', expected HH:MM"),
        (entry(old="lag_days: 7", new="lag_days: soon"), r"dataset fred\.X: release: field 'lag_days' must be a whole"),
        (entry(old='  unit: "%"\n', new=""), r"dataset fred\.X: missing field 'unit'"),
        (entry("weekly"), r"dataset fred\.X: field 'weekday' is required for a weekly dataset"),
        (entry("weekly", "calendar: US", "weekday: someday"), r"dataset fred\.X: field 'weekday' is 'someday'"),
        (entry(old="code: X", new="code: X-1"), r"dataset id 'fred\.X-1' must be '<source>.<code>'"),
        (entry() * 2, r"dataset fred\.X: duplicate id"),
        (entry() + "  kind: table\n", r"dataset fred\.X: field 'kind' is 'table'"),
    ],
    ids=[
        "frequency",
        "calendar",
        "range-order",
        "range-type",
        "timezone",
        "clock",
        "lag",
        "missing-unit",
        "weekly-without-weekday",
        "weekday",
        "id",
        "duplicate",
        "kind",
    ],
)
def test_catalog_errors_name_the_dataset_and_the_field(entries, message):
    with pytest.raises(CatalogError, match=message):
        one_source(entries)


def bars_file(**fields: str) -> str:
    """BARS_FILE with the given fields of its dataset entry set to other values."""
    return "\n".join(
        f"  {key}: {fields[key]}"
        if line.startswith("  ") and (key := line.strip().partition(":")[0]) in fields
        else line
        for line in BARS_FILE.splitlines()
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"instrument": "EURUSD"}, r"dataset twelvedata\.USDCOP_5min: field 'instrument' is 'EURUSD', not in the"),
        ({"interval": "7min"}, r"dataset twelvedata\.USDCOP_5min: field 'interval' is '7min'"),
        ({"frequency": "daily"}, r"dataset twelvedata\.USDCOP_5min: field 'frequency' must be 'intraday' exactly"),
    ],
)
def test_bar_dataset_errors_name_the_dataset_and_the_field(fields, message):
    assert bars_file(**fields) != BARS_FILE
    with pytest.raises(CatalogError, match=message):
        parse_catalog({"twelvedata.yaml": bars_file(**fields)}, INSTRUMENTS)


def test_an_error_in_the_source_section_names_the_file():
    without_title = SOURCE_FILE.replace("  title: FRED\n", "") + entry()
    with pytest.raises(CatalogError, match=r"catalog file fred\.yaml: source: missing field 'title'"):
        parse_catalog({"fred.yaml": without_title})
    twice = {"fred.yaml": SOURCE_FILE + entry(), "fred_again.yaml": SOURCE_FILE}
    with pytest.raises(CatalogError, match=r"catalog file fred_again\.yaml: source 'fred' is described twice"):
        parse_catalog(twice)


def test_an_instrument_error_names_the_instrument_and_the_field():
    with pytest.raises(CatalogError, match=r"instrument USDCOP: field 'calendar' is 'XX'"):
        parse_catalog({"twelvedata.yaml": BARS_FILE}, INSTRUMENTS.replace("calendar: CO", "calendar: XX"))
    with pytest.raises(CatalogError, match=r"instrument USDCOP: field 'session_open' is '8am', expected HH:MM"):
        parse_catalog({"twelvedata.yaml": BARS_FILE}, INSTRUMENTS.replace('"08:00"', '"8am"'))


def test_a_bad_field_in_a_source_file_names_the_file_the_dataset_and_the_field():
    with pytest.raises(CatalogError, match=r"fred\.yaml.*dataset fred\.X: field 'frequency'"):
        one_source(entry("hourly"))
