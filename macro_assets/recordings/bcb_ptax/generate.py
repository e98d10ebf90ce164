"""Deterministic generator of the BCB PTAX recordings (Olinda PTAX/versao/v1, 2015..2018), replayed offline.

Run ``python -m macro_assets.recordings.bcb_ptax.generate [OUT_DIR]`` (default: this directory); it rewrites
``manifest.json`` and every body byte for byte. No network: the values come from seeded ``random.Random`` streams
and the calendar from ``macro_assets.catalog.calendars`` (B3's, via ``holidays``).

What is recorded (every body SYNTHETIC, in the real format of api-formats.md §2), one request per calendar year as
the connector asks (``$top=10000&$skip=0&$format=json``, dates ``'MM-DD-YYYY'``):

- ``CotacaoDolarPeriodo`` with ``$select=cotacaoCompra,cotacaoVenda,dataHoraCotacao``: one closing fixing per BR
  business day, published between 13:03 and 13:11 Brasília time; rates with 5 decimals, the last one 0 (as the
  verbatim 2023 samples print 4-decimal rates); 2017-05-18 lists its fixing twice, re-published 31 minutes later
  with the same rates (a day published twice: the second record is a new instant, not a new value);
- ``CotacaoMoedaPeriodo`` of EUR with ``$select=cotacaoCompra,cotacaoVenda,dataHoraCotacao,tipoBoletim``: five
  bulletins per business day, "Abertura" (~10:0x), three "Intermediário" (~11:0x, 12:0x, and the last one a few
  milliseconds before the close, as in the reconstructed AUD sample) and "Fechamento PTAX"; rates with 4 decimals.

Values (never real prints): the USD/BRL mid follows a Brownian bridge pinned near the real path (2.66 on 2015-01-02,
4.19 on 2015-09-23, 3.26 at the end of 2016, 4.20 on 2018-09-13, 3.87 at the end of 2018); EUR/BRL is that times an
EUR/USD bridge (1.20, 1.05, 1.04, 1.20, 1.25, 1.145). Sell = mid + half a spread, buy = mid - half (USD spread
0.0006, EUR 0.0014); intraday bulletins wander around the close. Fractional seconds of ``dataHoraCotacao`` are
milliseconds with trailing zeros dropped (``.5``, ``.0``: the API's varying widths).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from macro_assets.catalog.calendars import business_days
from macro_assets.recordings.common import bridge, exchange, generator_main, manifest_bytes, nearest_index, write_files
from macro_assets.sources import bcb_ptax, olinda

HERE = Path(__file__).resolve().parent
SEED = "macro_assets.recordings.bcb_ptax/2019-01-07"
YEARS = (2015, 2016, 2017, 2018)
CAPTURED_AT = "2019-01-07T12:00:00Z"
HEADERS = {"Content-Type": "application/json; charset=utf-8"}
CONTEXT = "https://was-p.bcnet.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata$metadata#_{function}({fields})"
REPUBLISHED = (dt.date(2017, 5, 18), dt.timedelta(minutes=31))
USD_ANCHORS = (
    ("2015-01-02", 2.66),
    ("2015-09-23", 4.19),
    ("2016-01-21", 4.05),
    ("2016-12-29", 3.26),
    ("2017-05-18", 3.38),
    ("2017-12-28", 3.31),
    ("2018-09-13", 4.20),
    ("2018-12-28", 3.87),
)
EURUSD_ANCHORS = (
    ("2015-01-02", 1.20),
    ("2015-03-13", 1.05),
    ("2016-12-20", 1.04),
    ("2017-12-28", 1.20),
    ("2018-02-15", 1.25),
    ("2018-12-28", 1.145),
)
SPREADS = {"USD": 0.0006, "EUR": 0.0014}
# (tipoBoletim, hour) of the bulletins before the close; the last intermediate is dated just before the close.
EARLY_BULLETINS = (("Abertura", 10), ("Intermediário", 11), ("Intermediário", 12))


def _path(rng: random.Random, days: list[dt.date], anchors, sigma: float) -> list[float]:
    points = [(nearest_index(days, dt.date.fromisoformat(day)), level) for day, level in anchors]
    return bridge(rng, points, sigma)


def _stamp(moment: dt.datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS.f`: milliseconds without trailing zeros, at least one digit."""
    millis = f"{moment.microsecond // 1000:03d}".rstrip("0") or "0"
    return f"{moment:%Y-%m-%d %H:%M:%S}.{millis}"


def _at(day: dt.date, hour: int, rng: random.Random, minutes: tuple[int, int]) -> dt.datetime:
    return dt.datetime.combine(
        day, dt.time(hour, rng.randint(*minutes), rng.randint(0, 59), rng.randint(0, 999) * 1000)
    )


def _rates(mid: float, spread: float, decimals: int) -> tuple[float, float]:
    buy = round(mid - spread / 2, decimals)
    return buy, round(buy + spread, decimals)


def _number(value: float, decimals: int, pad: int) -> str:
    return f"{value:.{decimals}f}" + "0" * pad


def _envelope(function: str, fields: tuple[str, ...], records: list[str]) -> bytes:
    context = CONTEXT.format(function=function, fields=",".join(fields))
    return ('{"@odata.context":"' + context + '","value":[' + ",".join(records) + "]}").encode("utf-8")


def dollar_records(days: list[dt.date], usd: list[float]) -> dict[int, list[str]]:
    """Year -> the CotacaoDolarPeriodo records (JSON text) of its business days."""
    rng = random.Random(f"{SEED}/dollar_times")
    out: dict[int, list[str]] = {year: [] for year in YEARS}
    for day, mid in zip(days, usd, strict=True):
        buy, sell = _rates(mid, SPREADS["USD"], 4)
        moment = _at(day, 13, rng, (3, 10))
        stamps = [moment] + ([moment + REPUBLISHED[1]] if day == REPUBLISHED[0] else [])
        out[day.year] += [
            f'{{"cotacaoCompra":{_number(buy, 4, 1)},"cotacaoVenda":{_number(sell, 4, 1)},'
            f'"dataHoraCotacao":"{_stamp(stamp)}"}}'
            for stamp in stamps
        ]
    return out


def currency_records(days: list[dt.date], eur: list[float]) -> dict[int, list[str]]:
    """Year -> the CotacaoMoedaPeriodo records (JSON text) of EUR: five bulletins per business day."""
    rng = random.Random(f"{SEED}/eur_bulletins")
    out: dict[int, list[str]] = {year: [] for year in YEARS}
    for day, close in zip(days, eur, strict=True):
        closing = _at(day, 13, rng, (3, 10))
        bulletins = [(kind, _at(day, hour, rng, (1, 9))) for kind, hour in EARLY_BULLETINS]
        bulletins += [
            ("Intermediário", closing - dt.timedelta(milliseconds=rng.randint(5, 20))),
            ("Fechamento PTAX", closing),
        ]
        for kind, moment in bulletins:
            mid = close if kind == "Fechamento PTAX" else close * (1 + rng.gauss(0.0, 0.003))
            buy, sell = _rates(mid, SPREADS["EUR"], 4)
            out[day.year].append(
                f'{{"cotacaoCompra":{_number(buy, 4, 0)},"cotacaoVenda":{_number(sell, 4, 0)},'
                f'"dataHoraCotacao":"{_stamp(moment)}","tipoBoletim":"{kind}"}}'
            )
    return out


def build() -> dict[str, bytes]:
    """Every generated file: name -> bytes."""
    days = business_days("BR", dt.date(YEARS[0], 1, 1), dt.date(YEARS[-1], 12, 31))
    usd = _path(random.Random(f"{SEED}/usdbrl"), days, USD_ANCHORS, 0.025)
    eurusd = _path(random.Random(f"{SEED}/eurusd"), days, EURUSD_ANCHORS, 0.004)
    eur = [u * e for u, e in zip(usd, eurusd, strict=True)]
    specs = {
        "USD": (
            bcb_ptax.DOLLAR_FUNCTION,
            dollar_records(days, usd),
            {"currency": "USD", "side": "sell", "bulletin": "close"},
        ),
        "EUR": (
            bcb_ptax.CURRENCY_FUNCTION,
            currency_records(days, eur),
            {"currency": "EUR", "side": "sell", "bulletin": "open"},
        ),
    }
    files, exchanges = {}, []
    for currency, (function, records, params) in specs.items():
        for year in YEARS:
            url, query = bcb_ptax.request(params, dt.date(year, 1, 1), dt.date(year, 12, 31))
            name = f"{currency}_{function}_{year}.json"
            files[name] = _envelope(function, tuple(query["$select"].split(",")), records[year])
            what = (
                "the USD closing fixing of every BR business day"
                if currency == "USD"
                else "the EUR bulletins (Abertura, 3 Intermediário, Fechamento PTAX) of every BR business day"
            )
            twice = f"; {REPUBLISHED[0]} listed twice (re-published, same rates)" if year == REPUBLISHED[0].year else ""
            exchanges.append(
                exchange(
                    url,
                    query,
                    HEADERS,
                    name,
                    CAPTURED_AT,
                    "synthetic",
                    f"SYNTHETIC {function} answer for {year} in the real Olinda format (not real values): {what}"
                    f"{twice if currency == 'USD' else ''}. See generate.py.",
                )
            )
    manifest = {
        "source": bcb_ptax.SOURCE,
        "window_params": {"start": "@dataInicial", "end": "@dataFinalCotacao", "format": olinda.QUOTED_DATE_FORMAT},
        "exchanges": exchanges,
    }
    files["manifest.json"] = manifest_bytes(manifest)
    return files


def generate(out_dir: Path | str = HERE) -> list[str]:
    return write_files(build(), out_dir)


def main(argv: list[str] | None = None) -> int:
    return generator_main(generate, HERE, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
