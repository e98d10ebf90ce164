"""Reads the catalog: one YAML file per source under `datasets/`, and the instrument registry.

A file holds its source's description, optional `defaults` merged into every entry, and the `datasets`. Loading
reads packaged files only: nothing touches the network or a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from macro_assets.catalog.calendars import CALENDARS, FREQUENCIES
from macro_assets.catalog.model import (
    INTERVALS,
    KINDS,
    Catalog,
    DatasetId,
    DatasetSpec,
    Instrument,
    ReleaseRule,
    SourceSpec,
)
from macro_assets.errors import CatalogError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Entry:
    """Field access on one YAML mapping that names the entry and the field in every error."""

    def __init__(self, what: str, body: dict):
        if not isinstance(body, dict):
            raise CatalogError(f"{what}: expected a mapping, got {type(body).__name__}")
        self.what, self.body = what, body

    def __call__(self, name: str, default=...):
        if name in self.body:
            return self.body[name]
        if default is ...:
            raise CatalogError(f"{self.what}: missing field {name!r}")
        return default

    def error(self, name: str, problem: str) -> CatalogError:
        return CatalogError(f"{self.what}: field {name!r} {problem}")

    def timezone(self, name: str) -> ZoneInfo:
        try:
            return ZoneInfo(str(self(name)))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise self.error(name, f"is not a time zone ({exc})") from None

    def time(self, name: str) -> dt.time:
        try:
            return dt.time.fromisoformat(str(self(name)))
        except ValueError:
            raise self.error(name, f"is {self(name)!r}, expected HH:MM") from None

    def choice(self, name: str, choices: Iterable[str], default=...):
        value = self(name, default)
        if value not in tuple(choices) and value != default:
            raise self.error(name, f"is {value!r}, expected one of {tuple(choices)}")
        return value


def _instrument(symbol: str, body: dict) -> Instrument:
    entry = _Entry(f"instrument {symbol}", body)
    return Instrument(
        symbol=symbol,
        name=str(entry("name")),
        asset_class=str(entry("asset_class")),
        exchange=str(entry("exchange")),
        currency=str(entry("currency")),
        timezone=entry.timezone("timezone"),
        session_open=entry.time("session_open"),
        session_close=entry.time("session_close"),
        calendar=entry.choice("calendar", CALENDARS),
        active=bool(entry("active", True)),
    )


def _dataset(file_name: str, source: SourceSpec, body: dict, instruments: dict[str, Instrument]) -> DatasetSpec:
    code = str(body.get("code", "<missing code>"))
    try:
        dataset_id = DatasetId.parse(f"{source.name}.{code}")
    except CatalogError as error:
        raise CatalogError(f"catalog file {file_name}: {error}") from None
    entry = _Entry(f"catalog file {file_name}: dataset {dataset_id}", body)
    kind = entry.choice("kind", KINDS)
    frequency = entry.choice("frequency", FREQUENCIES)
    instrument = None
    if kind == "bars":
        symbol = entry("instrument")
        if symbol not in instruments:
            raise entry.error("instrument", f"is {symbol!r}, not in the instrument registry")
        instrument = instruments[symbol]
    calendar = entry("calendar", instrument.calendar if instrument else None)
    if frequency in ("daily", "intraday") and calendar not in CALENDARS:
        raise entry.error("calendar", f"must be one of {CALENDARS} for a {frequency} dataset")
    interval = entry("interval", None)
    if kind == "bars" and interval not in INTERVALS:
        raise entry.error("interval", f"is {interval!r}, expected one of {tuple(INTERVALS)}")
    if (frequency == "intraday") != (interval in ("5min", "1h")):
        raise entry.error("frequency", "must be 'intraday' exactly for bars of an intraday interval")
    weekday = entry.choice("weekday", WEEKDAYS, None)
    if frequency == "weekly" and weekday is None:
        raise entry.error("weekday", "is required for a weekly dataset")
    release = _Entry(f"{entry.what}: release", entry("release"))
    try:
        lag_days = int(release("lag_days"))
    except (TypeError, ValueError):
        raise release.error("lag_days", "must be a whole number of days") from None
    try:
        low, high = (float(v) for v in entry("plausible_range"))
    except (TypeError, ValueError):
        raise entry.error("plausible_range", "must be [min, max]") from None
    if not low < high:
        raise entry.error("plausible_range", "must be [min, max] with min < max")
    params = entry("params", {})
    if not isinstance(params, dict):
        raise entry.error("params", "must be a mapping")
    first_date = entry("first_date", None)
    if isinstance(first_date, str):
        try:
            first_date = dt.date.fromisoformat(first_date)
        except ValueError:
            pass
    if first_date is not None and not isinstance(first_date, dt.date):
        raise entry.error("first_date", f"must be an ISO date (YYYY-MM-DD), got {first_date!r}")
    return DatasetSpec(
        id=dataset_id,
        kind=kind,
        name=str(entry("name")),
        country=str(entry("country")),
        frequency=frequency,
        unit=str(entry("unit")),
        release=ReleaseRule(lag_days=lag_days, clock=release.time("clock"), timezone=release.timezone("timezone")),
        calendar=calendar,
        plausible_range=(low, high),
        instrument=instrument,
        interval=interval,
        weekday=None if weekday is None else WEEKDAYS.index(weekday),
        params=params,
        first_date=first_date,
    )


# libyaml's loader when PyYAML was built with it: a tenth of the pure-Python loader's time, which is most of the
# catalog's share of loading the definitions.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(text: str):
    return yaml.load(text, Loader=_YAML_LOADER)


def parse_catalog(source_files: dict[str, str], instruments_text: str = "instruments: {}") -> Catalog:
    """Build the catalog from the text of each source file (by file name) and of the instrument registry."""
    try:
        registry = _load_yaml(instruments_text) or {}
    except yaml.YAMLError as error:
        raise CatalogError(f"instrument registry: not valid YAML ({error})") from None
    instruments = {str(s): _instrument(str(s), b) for s, b in (registry.get("instruments") or {}).items()}
    sources: dict[str, SourceSpec] = {}
    datasets: dict[str, DatasetSpec] = {}
    for file_name, text in sorted(source_files.items()):
        try:
            document = _Entry(f"catalog file {file_name}", _load_yaml(text) or {})
        except yaml.YAMLError as error:
            raise CatalogError(f"catalog file {file_name}: not valid YAML ({error})") from None
        body = _Entry(f"catalog file {file_name}: source", document("source"))
        source = SourceSpec(
            name=str(body("name")),
            title=str(body("title")),
            owners=tuple(body("owners", ())),
            requests_per_second=float(body("requests_per_second", 2)),
            max_concurrent_requests=int(body("max_concurrent_requests", 1)),
        )
        if source.name in sources:
            raise CatalogError(f"catalog file {file_name}: source {source.name!r} is described twice")
        sources[source.name] = source
        defaults = _Entry(f"catalog file {file_name}: defaults", document("defaults", {})).body
        for raw in document("datasets", []):
            entry = _Entry(f"catalog file {file_name}: a dataset entry", raw).body
            spec = _dataset(file_name, source, {**defaults, **entry}, instruments)
            if str(spec.id) in datasets:
                raise CatalogError(f"catalog file {file_name}: dataset {spec.id}: duplicate id")
            datasets[str(spec.id)] = spec
    return Catalog(sources=sources, instruments=instruments, datasets=datasets)


@cache
def load_catalog() -> Catalog:
    package = resources.files("macro_assets.catalog")
    files = {
        item.name: item.read_text(encoding="utf-8")
        for item in package.joinpath("datasets").iterdir()
        if item.name.endswith(".yaml")
    }
    return parse_catalog(files, package.joinpath("instruments.yaml").read_text(encoding="utf-8"))
