"""Deterministic generator of the BCB Focus recordings (Olinda Expectativas/versao/v1, 2015..2018), replayed offline.

Run ``python -m macro_assets.recordings.bcb_focus.generate [OUT_DIR]`` (default: this directory); it rewrites
``manifest.json`` and every body byte for byte. No network: the values come from seeded ``random.Random`` streams
and the calendar from ``macro_assets.catalog.calendars`` (B3's, via ``holidays``).

What is recorded (every body SYNTHETIC, in the real format of api-formats.md §3): for every catalog dataset one
request per calendar year as the connector asks it (``$filter`` on the indicator and the year's ``Data``,
``$select``, ``$orderby``, ``$top=1000``), each page its own exchange. To keep the recordings small they hold the
weekly Focus survey dates only (the last BR business day of each week: a Friday, or the Thursday before a holiday
Friday such as 2018-11-02) and a few references per survey:

- annual sets: the survey's year and the next (IPCA: the next three); monthly: the survey's month and the next;
  the 12-month set: "12m"; Selic: the next four Copom meetings;
- both ``baseCalculo`` rows for IPCA annual and the Selic meetings, only ``baseCalculo`` 0
  (the 30-day statistics Focus reports) for the others, although the real API sends both for every dataset;
- IPCA annual holds every BR business day (the API's daily rows) from 2018-07-01, so its 2018 answer is two pages.

Records are ordered as the request's ``$orderby`` asks, by text: "01/2016" sorts before "12/2015", "R1/2019" before
"R8/2018". ``IndicadorDetalhe`` is null but for "Balança comercial" ("Saldo", "Exportações", "Importações").

Values (plausible, never real prints): each expectation moves from an anchor (what the market expected more than a
horizon ahead) to the reference's outcome (close to the real published figure: the IPCA and Selic paths of the SGS
recordings, the real annual IPCA, GDP, trade figures...) as the reference period comes closer, plus an AR(1) noise
per reference. Mean, standard deviation, minimum and maximum are drawn around the median (min <= median, mean <= max
after rounding), respondents from a range per indicator (fewer in the 5-day statistics, fewer far ahead). Selic
medians, minima and maxima are multiples of 0.25.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from macro_assets.catalog import load_catalog
from macro_assets.catalog.calendars import add_months, business_days
from macro_assets.recordings.bcb_sgs.generate import IPCA_MM, PTAX_ANCHORS, SELIC_TARGET_PATH
from macro_assets.recordings.common import exchange, generator_main, manifest_bytes, write_files
from macro_assets.sources import bcb_focus

HERE = Path(__file__).resolve().parent
SEED = "macro_assets.recordings.bcb_focus/2019-01-07"
YEARS = (2015, 2016, 2017, 2018)
CAPTURED_AT = "2019-01-07T12:00:00Z"
HEADERS = {"Content-Type": "application/json; charset=utf-8"}
CONTEXT = "https://was-p.bcnet.bcb.gov.br/olinda/servico/Expectativas/versao/v1/odata$metadata#{entity}({fields})"
# The dataset recorded with every BR business day from this day on (the API's daily rows): its 2018 is two pages.
DAILY = ("IPCA_annual", dt.date(2018, 7, 1))
# Copom decision days (the meeting's second day), R1..R8 of each year.
MEETINGS = {
    2015: ("01-21", "03-04", "04-29", "06-03", "07-29", "09-02", "10-21", "11-25"),
    2016: ("01-20", "03-02", "04-27", "06-08", "07-20", "08-31", "10-19", "11-30"),
    2017: ("01-11", "02-22", "04-12", "05-31", "07-26", "09-06", "10-25", "12-06"),
    2018: ("02-07", "03-21", "05-16", "06-20", "08-01", "09-19", "10-31", "12-12"),
    2019: ("02-06", "03-20", "05-08", "06-19", "07-31", "09-18", "10-30", "12-11"),
}
# IPCA m/m of 2019 (approximately the published figures), for the references of surveys late in 2018.
IPCA_MM_2019 = (0.32, 0.43, 0.75, 0.57, 0.13, 0.01, 0.19, 0.11, -0.04, 0.10, 0.51, 1.15)
IGP_YEARS = range(2015, 2020)


@dataclass(frozen=True)
class Model:
    """How one dataset's synthetic expectations are drawn.

    `references(survey)` lists (reference text, last day of the reference period) a survey answers; `outcome` and
    `anchor` give the value the expectation converges to and the one it starts from; `horizon` how many days
    before the reference's end it starts moving; `spread` the typical standard deviation among respondents."""

    code: str
    references: Callable[[dt.date], list[tuple[str, dt.date]]]
    outcome: Callable[[str, dt.date], float]
    anchor: Callable[[str, dt.date], float]
    horizon: int
    spread: float
    respondents: tuple[int, int]
    both_bases: bool = False
    step: float = 0.01  # the precision of median, minimum and maximum
    known_share: float = 1.0  # how much of the outcome the expectation reaches at the reference's end


def _years_ahead(count: int) -> Callable[[dt.date], list[tuple[str, dt.date]]]:
    return lambda survey: [(str(year), dt.date(year, 12, 31)) for year in range(survey.year, survey.year + count)]


def _months_ahead(count: int) -> Callable[[dt.date], list[tuple[str, dt.date]]]:
    def references(survey: dt.date) -> list[tuple[str, dt.date]]:
        months = [add_months(survey.replace(day=1), n) for n in range(count)]
        return [(f"{m:%m/%Y}", add_months(m, 1) - dt.timedelta(days=1)) for m in months]

    return references


def _meetings() -> list[tuple[str, dt.date]]:
    return [
        (f"R{n}/{year}", dt.date.fromisoformat(f"{year}-{day}"))
        for year, days in MEETINGS.items()
        for n, day in enumerate(days, start=1)
    ]


def _next_meetings(survey: dt.date) -> list[tuple[str, dt.date]]:
    return [meeting for meeting in _meetings() if meeting[1] > survey][:4]


def _selic_target(day: dt.date) -> float:
    """The Selic target in force on `day` (the real Copom path of the SGS recordings)."""
    return float([rate for start, rate in SELIC_TARGET_PATH if start <= day][-1])


def _usdbrl(day: dt.date) -> float:
    """The USD/BRL level on `day`, linear between the SGS recordings' PTAX anchors (flat after the last)."""
    anchors = [*PTAX_ANCHORS, (dt.date(2019, 12, 31), 4.03)]
    for (d0, v0), (d1, v1) in zip(anchors, anchors[1:]):
        if d0 <= day <= d1:
            return v0 + (v1 - v0) * (day - d0).days / (d1 - d0).days
    return anchors[0][1] if day < anchors[0][0] else anchors[-1][1]


def _ipca_months() -> dict[dt.date, float]:
    months = {dt.date(year, m + 1, 1): float(v) for year, values in IPCA_MM.items() for m, v in enumerate(values)}
    months.update({dt.date(2019, m + 1, 1): v for m, v in enumerate(IPCA_MM_2019)})
    return months


def _igp_months(annual: dict[int, float], name: str) -> dict[dt.date, float]:
    """Monthly IGP changes compounding near each year's outcome (synthetic)."""
    rng = random.Random(f"{SEED}/{name}/months")
    return {
        dt.date(year, month, 1): round(((1 + annual[year] / 100) ** (1 / 12) - 1) * 100 + rng.gauss(0, 0.35), 2)
        for year in IGP_YEARS
        for month in range(1, 13)
    }


def _twelve_months_ahead(months: dict[dt.date, float]) -> Callable[[str, dt.date], float]:
    """The inflation of the 12 months after the survey's month, compounded."""

    def outcome(_reference: str, survey: dt.date) -> float:
        first = add_months(survey.replace(day=1), 1)
        factor = math.prod(1 + months[add_months(first, n)] / 100 for n in range(12))
        return (factor - 1) * 100

    return outcome


def _by_year(table: dict[int, float]) -> Callable[[str, dt.date], float]:
    return lambda reference, _survey: table[int(reference)]


def _by_month(table: dict[dt.date, float]) -> Callable[[str, dt.date], float]:
    return lambda reference, _survey: table[dt.date(int(reference[3:]), int(reference[:2]), 1)]


def _constant(value: float) -> Callable[[str, dt.date], float]:
    return lambda _reference, _survey: value


def _annual(code: str, outcomes: tuple, anchors: tuple, spread: float, respondents, **options) -> Model:
    """An annual model: outcomes for 2015..2019, anchors for 2015..2021 (a survey of 2018 asks up to 2021)."""
    return Model(
        code,
        options.pop("references", _years_ahead(2)),
        _by_year(dict(zip(range(2015, 2020), outcomes, strict=True))),
        _by_year(dict(zip(range(2015, 2022), anchors, strict=True))),
        horizon=540,
        spread=spread,
        respondents=respondents,
        **options,
    )


IPCA_YEARS = (10.67, 6.29, 2.95, 3.75, 4.31)
IGPM_YEARS = (10.54, 7.17, -0.52, 7.54, 7.30)
IGPDI_YEARS = (10.70, 7.15, -0.42, 7.10, 7.70)
INFLATION_ANCHORS = (6.5, 5.5, 4.8, 4.5, 4.25, 4.0, 3.75)
IGP_ANCHORS = (5.5, 5.5, 5.0, 4.5, 4.3, 4.0, 4.0)
IPCA_MONTHS = _ipca_months()
IGPM_MONTHS = _igp_months(dict(zip(IGP_YEARS, IGPM_YEARS, strict=True)), "IGP-M")
IGPDI_MONTHS = _igp_months(dict(zip(IGP_YEARS, IGPDI_YEARS, strict=True)), "IGP-DI")

MODELS = (
    _annual("IPCA_annual", IPCA_YEARS, INFLATION_ANCHORS, 0.35, (85, 125), both_bases=True, references=_years_ahead(4)),
    _annual(
        "IPCA_administered_annual", (18.07, 5.50, 7.99, 6.18, 5.54), (7.5, 5.5, 5.0, 4.8, 4.5, 4.0, 4.0), 0.8, (40, 75)
    ),
    _annual("IPCA_market_annual", (8.51, 6.55, 1.35, 2.88, 3.89), (6.2, 5.5, 4.8, 4.4, 4.2, 4.0, 3.8), 0.4, (40, 75)),
    _annual("IGPM_annual", IGPM_YEARS, IGP_ANCHORS, 0.6, (60, 95)),
    _annual("IGPDI_annual", IGPDI_YEARS, IGP_ANCHORS, 0.6, (25, 45)),
    _annual("USDBRL_annual", (3.90, 3.26, 3.31, 3.87, 4.03), (2.80, 3.0, 4.1, 3.5, 3.6, 3.7, 3.8), 0.15, (80, 115)),
    _annual(
        "Selic_annual",
        (14.25, 13.75, 7.00, 6.50, 4.50),
        (12.5, 11.5, 11.0, 10.0, 8.0, 8.0, 8.0),
        0.5,
        (80, 115),
        step=0.25,
    ),  # fmt: skip
    _annual("GDP_annual", (-3.55, -3.28, 1.32, 1.78, 1.41), (0.5, 1.0, 1.5, 2.5, 2.5, 2.5, 2.5), 0.4, (75, 110)),
    _annual(
        "industrial_production_annual", (-8.3, -6.4, 2.5, 1.1, -1.1), (1.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0), 1.0, (30, 55)
    ),
    _annual(
        "current_account_annual",
        (-54.5, -24.0, -7.2, -14.5, -50.8),
        (-80.0, -60.0, -30.0, -30.0, -40.0, -45.0, -50.0),
        8.0,
        (30, 50),
    ),
    _annual(
        "trade_balance_annual", (19.7, 47.7, 67.0, 58.7, 48.0), (5.0, 30.0, 45.0, 50.0, 50.0, 45.0, 45.0), 6.0, (35, 55)
    ),
    _annual(
        "exports_annual",
        (191.1, 185.2, 217.7, 239.3, 225.4),
        (230.0, 190.0, 190.0, 215.0, 230.0, 235.0, 240.0),
        10.0,
        (20, 35),
    ),
    _annual(
        "imports_annual",
        (171.4, 137.6, 150.7, 181.2, 177.3),
        (220.0, 160.0, 145.0, 165.0, 180.0, 190.0, 195.0),
        10.0,
        (20, 35),
    ),
    _annual("FDI_annual", (74.7, 78.2, 68.3, 78.2, 69.2), (60.0, 60.0, 70.0, 75.0, 80.0, 80.0, 80.0), 8.0, (30, 50)),
    _annual(
        "net_public_debt_annual",
        (35.6, 46.2, 51.4, 53.8, 55.8),
        (38.0, 42.0, 50.0, 55.0, 57.0, 58.0, 59.0),
        1.5,
        (30, 50),
    ),
    _annual(
        "primary_balance_annual",
        (-1.85, -2.48, -1.69, -1.57, -0.85),
        (1.0, 0.5, -1.5, -1.8, -1.5, -1.0, -0.5),
        0.4,
        (35, 60),
    ),  # fmt: skip
    Model("IPCA_monthly", _months_ahead(2), _by_month(IPCA_MONTHS), _constant(0.40), 120, 0.06, (70, 110)),
    Model("IGPM_monthly", _months_ahead(2), _by_month(IGPM_MONTHS), _constant(0.40), 120, 0.2, (40, 70)),
    Model("IGPDI_monthly", _months_ahead(2), _by_month(IGPDI_MONTHS), _constant(0.40), 120, 0.2, (20, 35)),
    Model(
        "USDBRL_monthly",
        _months_ahead(2),
        lambda reference, _survey: _usdbrl(add_months(dt.date(int(reference[3:]), int(reference[:2]), 1), 1)),
        lambda _reference, survey: _usdbrl(survey),
        120,
        0.08,
        (70, 105),
    ),
    *(
        Model(
            code,
            lambda _survey: [(bcb_focus.TWELVE_MONTHS, _survey)],
            _twelve_months_ahead(months),
            _constant(anchor),
            1,
            spread,
            respondents,
            known_share=0.6,  # the 12 months ahead are never known at the survey
        )
        for code, months, anchor, spread, respondents in (
            ("IPCA_12m_smoothed", IPCA_MONTHS, 4.5, 0.3, (70, 100)),
            ("IPCA_12m", IPCA_MONTHS, 4.5, 0.3, (70, 100)),
            ("IGPM_12m_smoothed", IGPM_MONTHS, 4.5, 0.5, (45, 70)),
            ("IGPM_12m", IGPM_MONTHS, 4.5, 0.5, (45, 70)),
        )
    ),
    Model(
        "Selic_meetings",
        _next_meetings,
        lambda reference, _survey: _selic_target(dict(_meetings())[reference] + dt.timedelta(days=1)),
        lambda _reference, survey: _selic_target(survey),
        240,
        0.25,
        (70, 110),
        both_bases=True,
        step=0.25,
    ),
)


def weekly_surveys() -> list[dt.date]:
    """The last BR business day of every Monday-to-Friday week in the recorded years."""
    days = business_days("BR", dt.date(YEARS[0], 1, 1), dt.date(YEARS[-1], 12, 31))
    last: dict[tuple[int, int], dt.date] = {}
    for day in days:
        last[day.isocalendar()[:2]] = day
    return sorted(last.values())


def _floor(value: float, step: float) -> float:
    units = round(1 / step)
    return math.floor(value * units + 1e-9) / units


def _ceil(value: float, step: float) -> float:
    units = round(1 / step)
    return math.ceil(value * units - 1e-9) / units


def statistics(rng: random.Random, median: float, spread: float, step: float, respondents: int) -> dict:
    """One record's statistics (API field -> value) around `median`, consistent after rounding."""
    std = spread * (0.7 + 0.6 * rng.random())
    mean = round(median + rng.gauss(0, 0.15 * std), 4)
    median = round(round(median / step) * step, 2)
    low = _floor(min(median - std * (1.8 + 1.5 * rng.random()), median, mean), step)
    high = _ceil(max(median + std * (1.8 + 1.5 * rng.random()), median, mean), step)
    return {
        "Media": mean,
        "Mediana": median,
        "DesvioPadrao": round(std, 4),
        "Minimo": low,
        "Maximo": high,
        "numeroRespondentes": respondents,
    }


def records(model: Model, selection: bcb_focus.Selection, surveys: list[dt.date]) -> list[tuple[tuple, str]]:
    """(sort key, JSON text) of every record of the model's surveys: $orderby Data, reference, baseCalculo."""
    entity = selection.entity
    rng = random.Random(f"{SEED}/{model.code}")
    noise: dict[tuple[str, int], float] = {}
    out = []
    for survey in surveys:
        for reference, period_end in model.references(survey):
            # The outcome becomes known ever faster as the reference period comes closer.
            known = min(max(1 - (period_end - survey).days / model.horizon, 0.0), 1.0) ** 2 * model.known_share
            anchor = model.anchor(reference, survey)
            # Beyond the horizon the outcome plays no part (an annual outcome is given up to 2019 only).
            expected = anchor + (model.outcome(reference, survey) - anchor) * known if known else anchor
            for basis in bcb_focus.BASES if model.both_bases else (0,):
                walk = 0.9 * noise.get((reference, basis), 0.0) + rng.gauss(0, 0.08 * model.spread)
                noise[(reference, basis)] = walk
                spread = model.spread * (0.5 + (1 - known)) * (1.2 if basis else 1.0)
                low, high = model.respondents
                count = max(1, round(rng.randint(low, high) * (0.6 + 0.4 * known) * (0.45 if basis else 1.0)))
                median = expected + walk
                record = {bcb_focus.INDICATOR: selection.indicator}
                if entity.detailed:
                    record[bcb_focus.DETAIL] = selection.detail
                record[bcb_focus.SURVEY_DATE] = survey.isoformat()
                if entity.reference_field:
                    record[entity.reference_field] = reference
                if entity.smoothed:
                    record[bcb_focus.SMOOTHED] = selection.smoothed
                record.update(statistics(rng, median, spread, model.step, count))
                record[bcb_focus.BASIS] = basis
                text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                out.append(((survey.isoformat(), reference, basis), text))
    return sorted(out)


def _envelope(entity: bcb_focus.EntitySet, page: list[str]) -> bytes:
    context = CONTEXT.format(entity=entity.name, fields=",".join(entity.fields))
    return ('{"@odata.context":"' + context + '","value":[' + ",".join(page) + "]}").encode("utf-8")


def _pages(texts: list[str]) -> list[list[str]]:
    """The pages the API answers: $top records each, and an empty one after a full last page."""
    size = bcb_focus.PAGE_SIZE
    pages = [texts[i : i + size] for i in range(0, len(texts), size)] or [[]]
    return pages + [[]] if len(pages[-1]) == size else pages


def build() -> dict[str, bytes]:
    """Every generated file: name -> bytes."""
    catalog = load_catalog()
    weekly = weekly_surveys()
    daily = business_days("BR", DAILY[1], dt.date(YEARS[-1], 12, 31))
    files, exchanges = {}, []
    for model in MODELS:
        spec = catalog.get(f"{bcb_focus.SOURCE}.{model.code}")
        selection = bcb_focus.Selection.of(spec.params)
        for year in YEARS:
            every_day = model.code == DAILY[0] and year == DAILY[1].year
            surveys = [day for day in weekly if day.year == year and not (every_day and day >= DAILY[1])]
            surveys += daily if every_day else []
            texts = [text for _, text in records(model, selection, surveys)]
            url, query = bcb_focus.request(spec.params, dt.date(year, 1, 1), dt.date(year, 12, 31))
            pages = _pages(texts)
            for number, page in enumerate(pages):
                skip = number * bcb_focus.PAGE_SIZE
                name = f"{model.code}_{year}.json" if number == 0 else f"{model.code}_{year}_skip{skip}.json"
                files[name] = _envelope(selection.entity, page)
                what = (
                    f"the weekly survey dates, every BR business day from {DAILY[1]}"
                    if every_day
                    else "the weekly survey dates"
                )
                bases = "both baseCalculo" if model.both_bases else "baseCalculo 0 only"
                paging = f"; page {number + 1} of {len(pages)}" if len(pages) > 1 else ""
                exchanges.append(
                    exchange(
                        url,
                        {**query, "$skip": str(skip)},
                        HEADERS,
                        name,
                        CAPTURED_AT,
                        "synthetic",
                        f"SYNTHETIC {selection.entity.name} answer for {selection.indicator}"
                        f"{' / ' + selection.detail if selection.detail else ''}"
                        f"{' Suavizada ' + selection.smoothed if selection.smoothed else ''} in {year}, in the real "
                        f"Olinda format (not real values): {what}, {bases}{paging}. See generate.py.",
                    )
                )
    files["manifest.json"] = manifest_bytes({"source": bcb_focus.SOURCE, "exchanges": exchanges})
    return files


def generate(out_dir: Path | str = HERE) -> list[str]:
    return write_files(build(), out_dir)


def main(argv: list[str] | None = None) -> int:
    return generator_main(generate, HERE, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
