"""The summary after `macro-assets materialize`: a catalog dataset and a derived asset stored in the warehouse show
what is stored under their dataset_id (a fitted curve: its parameter series and curves together), and only the
assets kept as Parquet frames say so."""

import dataclasses

import pandas as pd

from macro_assets.catalog import load_catalog
from macro_assets.cli.summary import asset_lines
from macro_assets.definitions import defs
from macro_assets.defs.main_job import asset_reports
from macro_assets_tests.warehouse.cases import CASES

T1, T2 = pd.Timestamp("2024-01-02 21:00", tz="UTC"), pd.Timestamp("2024-01-03 21:00", tz="UTC")
OBSERVATIONS, CURVE_POINTS = CASES["observations"], CASES["curve_points"]


def summary(warehouse, *names: str) -> dict[str, str]:
    reports = asset_reports(defs.resolve_asset_graph())
    assets = {name: dataclasses.replace(reports[name], partitions=3) for name in names}
    lines = asset_lines(assets, warehouse, load_catalog())
    return {line.split()[0]: line for line in lines}


def columns(line: str) -> list[str]:
    return line.split()[1:]


def test_warehouse_assets_show_their_keys_and_vintages_and_the_rest_where_they_are_kept(system_warehouse):
    append = system_warehouse.pipeline.append
    append("observations", OBSERVATIONS.frame([(0, T1, 1.0), (0, T2, 1.5), (1, T1, 2.0)], dataset="fred.GDP"))
    append("observations", OBSERVATIONS.frame([(0, T1, 0.5), (1, T1, 0.7)], dataset="derived.ust_10y_2y"))
    # A fitted curve: a parameter series in the observations, a curve in the curve points, none under its own id.
    append("observations", OBSERVATIONS.frame([(0, T1, 4.0), (0, T2, 4.1)], dataset="derived.us_nominal_nss.beta0"))
    append("curve_points", CURVE_POINTS.frame([(0, T1, 3.0), (1, T1, 3.5)], dataset="derived.us_nominal_nss.zero"))

    lines = summary(
        system_warehouse,
        "fred/GDP",
        "derived/ust_10y_2y",
        "derived/us_nominal_nss",
        "derived/ipca_12m",
        "panels/daily_rates",
        "derived/usdbrl_vol_surface",
        "fx_vol/usdbrl_sample_quotes",
        "derived/revision_report",
    )

    assert columns(lines["fred/GDP"]) == ["3", "2", "3", "0", "2020-01-01", "..", "2020-01-02"]
    assert columns(lines["derived/ust_10y_2y"]) == ["3", "2", "2", "0", "2020-01-01", "..", "2020-01-02"]
    assert columns(lines["derived/us_nominal_nss"]) == [
        *("3", "3", "4", "0", "2020-01-01", "..", "2020-01-01"),
        *("(across", "2", "stored", "ids)"),
    ]
    assert columns(lines["derived/ipca_12m"]) == ["3", "0", "0", "0", "nothing", "stored"]
    for parquet in ("panels/daily_rates", "derived/usdbrl_vol_surface"):
        assert lines[parquet].endswith("(Parquet frames in the object store)")
    assert lines["fx_vol/usdbrl_sample_quotes"].endswith("(files in the object store)")
    assert lines["derived/revision_report"].endswith("(nothing stored: the result is its materializations' metadata)")
