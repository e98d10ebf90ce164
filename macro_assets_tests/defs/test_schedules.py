"""Release schedules: a tick at a release clock requests the partitions its datasets released since the tick
before, one run per range, and a holiday's tick skips."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from macro_assets.catalog import load_catalog
from macro_assets.defs.checks import RANGE_END, RANGE_START
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.schedules import build_release_schedule, release_schedules, schedule_groups

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MORNING = "bcb_sgs_daily_at_0900_America_Sao_Paulo"  # the day's CDI (and others) the next morning


def tick(schedule: dg.ScheduleDefinition, moment: dt.datetime):
    with dg.build_schedule_context(scheduled_execution_time=moment) as context:
        return schedule.evaluate_tick(context)


def test_a_morning_tick_requests_the_day_before_and_a_holiday_s_morning_skips():
    specs = schedule_groups(list(load_catalog().datasets.values()))[MORNING]
    schedule = build_release_schedule(MORNING, specs)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 9 * * 2,3,4,5,6", "America/Sao_Paulo")
    result = tick(schedule, dt.datetime(2018, 11, 14, 9, tzinfo=SAO_PAULO))
    [request] = result.run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2018-11-13", "2018-11-13")
    assert asset_key(load_catalog().get("bcb_sgs.12")) in request.asset_selection
    assert len(request.asset_selection) == len(specs)
    # Thursday 2018-11-15 is a BR holiday: Friday morning has nothing to release.
    skipped = tick(schedule, dt.datetime(2018, 11, 16, 9, tzinfo=SAO_PAULO))
    assert not skipped.run_requests and "nothing due" in skipped.skip_message


def test_every_dataset_has_one_stopped_schedule_and_a_tick_after_the_recordings_finds_nothing_due():
    datasets = list(load_catalog().datasets.values())
    grouped = [str(spec.id) for specs in schedule_groups(datasets).values() for spec in specs]
    assert sorted(grouped) == sorted(str(spec.id) for spec in datasets)
    schedules = release_schedules()
    names = {schedule.name for schedule in schedules}
    assert {"cftc_cot_weekly_tue_at_1530_America_New_York", "bcb_focus_weekly_fri_at_0825_America_Sao_Paulo"} <= names
    assert all(s.default_status == dg.DefaultScheduleStatus.STOPPED for s in schedules)
    cot = next(s for s in schedules if s.name.startswith("cftc_cot"))
    assert cot.cron_schedule == "30 15 * * 5"
    # Offline the partitions end with the recordings: a Friday tick today has no partition to ask for.
    assert not tick(cot, dt.datetime(2026, 11, 27, 15, 30, tzinfo=ZoneInfo("America/New_York"))).run_requests


def test_a_week_s_survey_runs_at_the_first_tick_after_its_partition_ends():
    name = "bcb_focus_weekly_fri_at_0825_America_Sao_Paulo"
    specs = schedule_groups(list(load_catalog().datasets.values()))[name]
    schedule = build_release_schedule(name, specs)
    # Friday 2018-11-09's survey is out on Monday the 12th, its partition (to Thursday) ends on Friday the 16th.
    [request] = tick(schedule, dt.datetime(2018, 11, 19, 8, 25, tzinfo=SAO_PAULO)).run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2018-11-09", "2018-11-09")
    assert len(request.asset_selection) == len(specs) == 25
