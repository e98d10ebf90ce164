"""Freshness against the release calendar: a dataset stored up to the newest date its rule says is out passes, one
that stops short of it or holds nothing is reported (WARN), judged offline at the dataset's newest fetch."""

import dagster as dg

from macro_assets.catalog import load_catalog
from macro_assets.defs.checks import RANGE_END, RANGE_START
from macro_assets.defs.datasets import asset_key, build_dataset_asset
from macro_assets.defs.freshness import FRESHNESS_CHECK, build_freshness_checks
from macro_assets.defs.resources import EARLIEST, REPLAY_TAG
from macro_assets_tests.defs.test_datasets import resources  # noqa: F401 (a fixture)

CATALOG = load_catalog()
IBCBR, IPCA = CATALOG.get("bcb_sgs.24363"), CATALOG.get("bcb_sgs.433")


def materialized_and_judged(resources, instance, last: str) -> dict[str, dg.AssetCheckEvaluation]:  # noqa: F811
    """IBC-Br's first capture (2019-01-07: October 2018 is the newest due then) stored up to `last`, then the
    freshness of IBC-Br and of IPCA (nothing stored), in one run."""
    checks = build_freshness_checks("bcb_sgs", [IBCBR, IPCA])
    keys = [dg.AssetCheckKey(asset_key(spec), FRESHNESS_CHECK) for spec in (IBCBR, IPCA)]
    result = dg.materialize(
        [build_dataset_asset(IBCBR, CATALOG), checks],
        resources=resources,
        instance=instance,
        selection=dg.AssetSelection.assets(asset_key(IBCBR)) | dg.AssetSelection.checks(*keys),
        tags={RANGE_START: "2015-01-01", RANGE_END: last, REPLAY_TAG: EARLIEST},
    )
    assert result.success
    return {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}


def test_a_dataset_is_fresh_when_it_holds_the_newest_date_its_release_rule_says_is_out(resources):  # noqa: F811
    with dg.instance_for_test() as instance:
        judged = materialized_and_judged(resources, instance, "2018-06-01")
        stale = judged["bcb_sgs/24363"]
        assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
        assert stale.metadata["newest_stored"].value == "2018-06-01"
        assert stale.metadata["newest_due"].value == "2018-10-01"
        assert stale.metadata["judged_at"].value.startswith("2019-01-07T12:00")
        assert not judged["bcb_sgs/433"].passed and judged["bcb_sgs/433"].metadata["newest_stored"].value == "none"
        assert materialized_and_judged(resources, instance, "2018-12-01")["bcb_sgs/24363"].passed


def test_offline_a_capture_made_after_the_recorded_window_is_judged_within_its_partitions(resources):  # noqa: F811
    walcl = CATALOG.get("fred.WALCL")  # weekly, ending Wednesday; captured 2019-01-07, the window ends 2018-12-31
    checks = build_freshness_checks("fred", [walcl])
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_dataset_asset(walcl, CATALOG), checks],
            resources=resources,
            instance=instance,
            tags={RANGE_START: "2015-01-07", RANGE_END: "2018-12-19"},
        )
    (judged,) = result.get_asset_check_evaluations()
    # 2018-12-26 was out at the capture, but its week is past the last partition: nothing offline can hold it.
    assert judged.passed and judged.metadata["newest_due"].value == "2018-12-19"
