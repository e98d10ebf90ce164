"""Automation: one explicit, RUNNING automation-condition sensor per kind of downstream asset (the sensor Dagster
would add on its own starts STOPPED)."""

from __future__ import annotations

import dagster as dg

panels_automation = dg.AutomationConditionSensorDefinition(
    "panels_automation",
    target=dg.AssetSelection.tag("shape", "panel"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
)

derived_series_automation = dg.AutomationConditionSensorDefinition(
    "derived_series_automation",
    target=dg.AssetSelection.tag("shape", "derived_series"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
)
