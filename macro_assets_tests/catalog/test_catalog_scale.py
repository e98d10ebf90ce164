"""The catalog at the seeds' scale: well over 150 datasets, each with the rules that make it a point-in-time
dataset (release rule, calendar, unit, plausible range) and a recording the offline default replays; Brazil and the
US covered in every category of the macro desk; and the SGS and FRED recordings inside their catalog entries'
plausible ranges."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.catalog.calendars import CALENDARS
from macro_assets.http.client import HttpClient
from macro_assets.http.replay import ReplayTransport
from macro_assets.recordings import recorded_window
from macro_assets.sources import connector_for
from macro_assets.sources.base import SourceSession
from macro_assets_tests import paths

CATALOG = load_catalog()
SCALED_SOURCES = ("bcb_sgs", "fred")
# The catalog model has no category field: the categories are these lists of ids.
CATEGORIES = {
    "BR": {
        "prices": ["bcb_sgs.1", "bcb_sgs.10813"],
        "rates": ["bcb_sgs.432", "bcb_sgs.11", "bcb_sgs.1178", "bcb_sgs.12", "bcb_sgs.4389", "bcb_sgs.4390",
                  "bcb_sgs.256"],
        "activity": ["bcb_sgs.24363", "bcb_sgs.24364", "bcb_sgs.4380"],
        "inflation": ["bcb_sgs.433", "bcb_sgs.13522", "bcb_sgs.188", "bcb_sgs.189", "bcb_sgs.190", "bcb_sgs.191",
                      "bcb_sgs.7447", "bcb_sgs.7450", "bcb_sgs.192", "bcb_sgs.11427"],
        "labour": ["bcb_sgs.24369"],
        "fiscal": ["bcb_sgs.4513", "bcb_sgs.13762"],
        "external": ["bcb_sgs.22701", "bcb_sgs.22707", "bcb_sgs.22708", "bcb_sgs.22709", "bcb_sgs.22719",
                     "bcb_sgs.22800", "bcb_sgs.13621"],
        "fx_flow": ["bcb_sgs.13961", "bcb_sgs.13967", "bcb_sgs.13970"],
        "money_credit": ["bcb_sgs.20539", "bcb_sgs.20540", "bcb_sgs.20541"],
    },
    "US": {
        "prices": ["fred.DTWEXBGS", "fred.VIXCLS", "fred.DCOILWTICO", "fred.DCOILBRENTEU"],
        "rates": ["fred.DFF", "fred.SOFR", "fred.DTB3", "fred.DGS3MO", "fred.DGS2", "fred.DGS5", "fred.DGS10",
                  "fred.DGS30", "fred.DFII5", "fred.DFII10", "fred.T10Y2Y", "fred.BAMLH0A0HYM2", "fred.BAMLC0A0CM",
                  "fred.MORTGAGE30US"],
        "activity": ["fred.GDP", "fred.GDPC1", "fred.INDPRO", "fred.TCU", "fred.RSAFS", "fred.HOUST",
                     "fred.UMCSENT", "fred.DGORDER"],
        "inflation": ["fred.CPIAUCSL", "fred.CPILFESL", "fred.PCEPI", "fred.PCEPILFE", "fred.PPIACO", "fred.T10YIE",
                      "fred.T5YIE", "fred.T5YIFR"],
        "labour": ["fred.PAYEMS", "fred.UNRATE", "fred.U6RATE", "fred.CIVPART", "fred.CES0500000003",
                   "fred.JTSJOL", "fred.ICSA", "fred.CCSA"],
        "fiscal": ["fred.MTSDS133FMS", "fred.GFDEBTN", "fred.GFDEGDQ188S"],
        "external": ["fred.BOPGSTB", "fred.IEABC"],
        "money_credit": ["fred.M2SL", "fred.BOGMBASE", "fred.WALCL"],
    },
}  # fmt: skip
DESK_CATEGORIES = {"prices", "rates", "activity", "inflation", "labour", "fiscal", "external", "money_credit"}


def scaled() -> list:
    return [spec for spec in CATALOG.datasets.values() if spec.source in SCALED_SOURCES]


def offline() -> SourceSession:
    return SourceSession(HttpClient(ReplayTransport(paths.RECORDINGS)), live=False)


# ------------------------------------------------------------------------------------------ scale and ids
def test_sgs_and_fred_bring_the_catalog_to_the_seeds_scale():
    assert len([s for s in scaled() if s.source == "bcb_sgs"]) >= 38
    assert len([s for s in scaled() if s.source == "fred"]) >= 50
    assert len(CATALOG.datasets) >= 150


def test_every_dataset_id_is_unique_across_sources_and_asset_keys():
    ids = [str(spec.id) for spec in CATALOG.datasets.values()]
    assert len(ids) == len(set(ids))
    assert len({tuple(spec.id.asset_path) for spec in CATALOG.datasets.values()}) == len(ids)


# ------------------------------------------------------------------------------------------ every dataset's rules
@pytest.mark.parametrize("dataset_id", sorted(CATALOG.datasets))
def test_every_dataset_has_release_rule_calendar_unit_and_plausible_range(dataset_id):
    spec = CATALOG.get(dataset_id)
    assert spec.name.strip() and spec.unit.strip() and spec.country.strip()
    assert spec.release.lag_days >= 0, "a release never precedes its period's end (no look-ahead)"
    assert isinstance(spec.release.clock, dt.time) and spec.release.timezone.key
    assert spec.plausible_range[0] < spec.plausible_range[1]
    if spec.frequency in ("daily", "intraday"):
        assert spec.calendar in CALENDARS
    else:
        assert spec.calendar is None or spec.calendar in CALENDARS
    assert (spec.weekday is not None) == (spec.frequency == "weekly")
    release = spec.estimated_release(dt.date(2018, 6, 1))
    assert release >= spec.earliest_possible_release(dt.date(2018, 6, 1))


@pytest.mark.parametrize("dataset_id", sorted(CATALOG.datasets))
def test_every_dataset_has_a_recording_in_its_source_manifest(dataset_id):
    """The offline default answers the dataset's own request for the last period of its recorded window (a
    partition's request: the last session of a daily dataset, the last week, month or quarter otherwise)."""
    spec = CATALOG.get(dataset_id)
    first, last = recorded_window(spec.source)
    if spec.frequency in ("daily", "intraday", "weekly"):
        end = spec.expected_dates(first, last)[-1]
        start = end - dt.timedelta(days=6) if spec.frequency == "weekly" else end
    else:
        end = last
        start = last.replace(month=last.month - (last.month - 1) % (3 if spec.frequency == "quarterly" else 1), day=1)
    fetched = connector_for(spec.source).fetch(offline(), spec, start, end)
    assert fetched and all(f.status == 200 for f in fetched)


# ------------------------------------------------------------------------------------------ categories
@pytest.mark.parametrize("country", sorted(CATEGORIES))
def test_brazil_and_the_us_cover_every_category(country):
    categories = CATEGORIES[country]
    assert DESK_CATEGORIES <= set(categories)
    for category, ids in categories.items():
        assert ids, category
        assert {CATALOG.get(dataset_id).country for dataset_id in ids} == {country}, category
    assert "fx_flow" in CATEGORIES["BR"]


def test_every_sgs_and_fred_dataset_has_a_category():
    listed = {dataset_id for categories in CATEGORIES.values() for ids in categories.values() for dataset_id in ids}
    assert {str(spec.id) for spec in scaled()} == listed


# ------------------------------------------------------------------------------------------ recordings vs catalog
@pytest.mark.parametrize("dataset_id", sorted(str(spec.id) for spec in scaled()))
def test_recorded_values_parse_inside_the_plausible_range(dataset_id):
    """The recordings replay without a quarantined row: every value inside its entry's range, every release at or
    after the start of its period's last day."""
    spec = CATALOG.get(dataset_id)
    connector = connector_for(spec.source)
    parsed = [connector.parse(spec, f) for f in connector.fetch(offline(), spec, *recorded_window(spec.source))]
    rows = pl.concat([p.rows for p in parsed])
    assert not [q for p in parsed for q in p.quarantine]
    values = rows.get_column("value").drop_nulls()
    assert len(values) > 0
    low, high = spec.plausible_range
    assert low <= values.min() and values.max() <= high
    for day, released in rows.select("obs_date", "release_time").iter_rows():
        assert released >= spec.earliest_possible_release(day), (day, released)


def test_fx_flows_are_signed_and_the_total_is_their_sum():
    """Fluxo cambial: net outflows are normal, and total = commercial + financial month by month."""

    def series(code: str) -> dict[dt.date, float]:
        spec = CATALOG.get(f"bcb_sgs.{code}")
        [fetched] = connector_for("bcb_sgs").fetch(offline(), spec, *recorded_window("bcb_sgs"))
        return dict(connector_for("bcb_sgs").parse(spec, fetched).rows.select("obs_date", "value").iter_rows())

    total, commercial, financial = series("13961"), series("13967"), series("13970")
    assert set(total) == set(commercial) == set(financial)
    assert all(total[m] == commercial[m] + financial[m] for m in total)
    assert min(financial.values()) < 0 and min(total.values()) < 0 < max(total.values())
    assert total[dt.date(2015, 9, 1)] < 0 < total[dt.date(2015, 8, 1)]
