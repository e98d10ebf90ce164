"""Deterministic generator of the IBGE SIDRA recordings (legacy values API, 2015..2018), replayed offline.

Run ``python -m macro_assets.recordings.ibge_sidra.generate [OUT_DIR]`` (default: this directory); it rewrites
``manifest.json`` and every body byte for byte. No network: the draws come from ``random.Random`` streams seeded
with fixed strings, the requests from the connector and the catalog.

What is recorded (every body SYNTHETIC, in the legacy format of api-formats.md §6a: a compact JSON array, the header
row first, every value a string, keys NC, NN, MC, MN, V, D1C, D1N, ... in the order of the URL's dimensions), one
request per calendar year of every ibge_sidra dataset, exactly as the connector asks:

- ``ipca_components``, table 1419 with variables 63 (monthly change) and 66 (monthly weight) and c315/all: a
  reduced but realistic IPCA basket, the general index (category 7169), the nine groups and their subgroups, items
  and subitems named as IBGE names them ("1101002.Arroz"). The category codes of the general index, the groups and
  7171, 7172, 7173, 7432, 7792 and 7794 are IBGE's; the others are numbered on in the structure's order. Weights
  start from approximate 2015 group weights shared among the subitems, sum to 100 at every level and move from
  month to month with relative prices, as IBGE's monthly weights do; subitem changes are drawn and shifted so that
  the general index is the real published IPCA of the month, and every other level is the weighted mean of its
  children (all levels then rounded: changes to 2 decimals, weights to 4). Regulated prices change in a few months
  only, the others show "-" (a true zero); a few cells show "..." (not surveyed) and "X" (suppressed).
- headline series: IPCA monthly change (table 1737 v63, real published values), its 12-month change (v2265) and
  index number (v2266) chained from those values (so within rounding of the published ones, the index from an
  approximate December 2014 level); INPC (1736 v44, v2292), IPCA-15 (3065 v355, v1120), PNAD Contínua
  unemployment (6381 v4099, moving quarters), PIM-PF (8888 v11601, v11602), PMC (8880 v11708), PMS (5906 v11623)
  and GDP (5932 v6564, v6561, quarterly): plausible values near the real paths, never real prints. Tables 8888 and
  8880 (base 2022) were created after 2019; their history is recorded as if captured then.

Every year of a dataset is captured once, three days after the catalog's estimated release of its last period of
2018 (12:00 UTC), so no body holds a value published after its capture.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from macro_assets.catalog import load_catalog
from macro_assets.recordings.bcb_sgs.generate import IPCA_MM
from macro_assets.recordings.common import bridge, exchange, generator_main, manifest_bytes, write_files
from macro_assets.sources import ibge_sidra

HERE = Path(__file__).resolve().parent
SEED = "macro_assets.recordings.ibge_sidra/2019"
YEARS = (2015, 2016, 2017, 2018)
HEADERS = {"Content-Type": "application/json; charset=utf-8"}
MONTHS = ("janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro").split()
SHORT_MONTHS = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")
PERCENT = ("2", "%")
# Published IPCA m/m of 2014 (for the 12-month changes of 2015) and an approximate index of December 2014.
IPCA_2014 = (0.55, 0.69, 0.92, 0.67, 0.46, 0.40, 0.01, 0.25, 0.57, 0.42, 0.51, 0.78)
IPCA_INDEX_DEC_2014 = 4059.48

# The basket: (structural code, name) of groups, subgroups and items; subitems also carry their share of the
# group's weight and their monthly volatility (% points), or None for a regulated price that moves in a few months.
BASKET = (
    ("1", "Alimentação e bebidas"),
    ("11", "Alimentação no domicílio"),
    ("1101", "Cereais, leguminosas e oleaginosas"),
    ("1101002", "Arroz", 0.9, 2.5),
    ("1101073", "Feijão - carioca (rajado)", 0.6, 6.0),
    ("1102", "Farinhas, féculas e massas"),
    ("1102006", "Macarrão", 0.5, 1.2),
    ("1103", "Tubérculos, raízes e legumes"),
    ("1103028", "Batata-inglesa", 0.4, 9.0),
    ("1103043", "Tomate", 0.5, 12.0),
    ("1104", "Açúcares e derivados"),
    ("1104003", "Açúcar refinado", 0.3, 2.0),
    ("1105", "Hortaliças e verduras"),
    ("1105010", "Alface", 0.2, 6.0),
    ("1105012", "Cebola", 0.2, 10.0),
    ("1106", "Frutas"),
    ("1106008", "Banana-prata", 0.4, 5.0),
    ("1106018", "Laranja-pera", 0.2, 5.0),
    ("1107", "Carnes"),
    ("1107009", "Alcatra", 1.1, 2.0),
    ("1107018", "Contrafilé", 1.0, 2.0),
    ("1110", "Aves e ovos"),
    ("1110010", "Frango em pedaços", 0.8, 2.5),
    ("1110044", "Ovo de galinha", 0.3, 3.0),
    ("1111", "Leites e derivados"),
    ("1111004", "Leite longa vida", 0.9, 3.5),
    ("1111009", "Queijo", 0.6, 1.5),
    ("1112", "Panificados"),
    ("1112015", "Pão francês", 1.1, 0.8),
    ("1114", "Bebidas e infusões"),
    ("1114022", "Café moído", 0.5, 2.0),
    ("1114084", "Refrigerante e água mineral", 0.9, 1.0),
    ("12", "Alimentação fora do domicílio"),
    ("1201", "Alimentação fora do domicílio"),
    ("1201001", "Refeição", 5.3, 0.4),
    ("1201003", "Lanche", 2.6, 0.5),
    ("2", "Habitação"),
    ("21", "Encargos e manutenção"),
    ("2101", "Aluguel e taxas"),
    ("2101001", "Aluguel residencial", 3.0, 0.3),
    ("2101002", "Condomínio", 1.0, 0.4),
    ("2101004", "Taxa de água e esgoto", 1.6, None),
    ("2104", "Artigos de limpeza"),
    ("2104003", "Sabão em pó", 0.6, 1.2),
    ("22", "Combustíveis e energia"),
    ("2201", "Combustíveis (domésticos)"),
    ("2201003", "Gás de botijão", 1.1, 1.5),
    ("2202", "Energia elétrica residencial"),
    ("2202003", "Energia elétrica residencial", 4.0, 3.5),
    ("3", "Artigos de residência"),
    ("31", "Móveis e utensílios"),
    ("3101", "Mobiliário"),
    ("3101002", "Móvel para sala", 0.7, 1.0),
    ("32", "Aparelhos eletroeletrônicos"),
    ("3201", "Eletrodomésticos e equipamentos"),
    ("3201001", "Refrigerador", 0.4, 1.5),
    ("3202", "TV, som e informática"),
    ("3202001", "Televisor", 0.5, 2.0),
    ("33", "Consertos e manutenção"),
    ("3301", "Consertos e manutenção"),
    ("3301002", "Conserto de refrigerador", 0.2, 0.6),
    ("4", "Vestuário"),
    ("41", "Roupas"),
    ("4101", "Roupa masculina"),
    ("4101001", "Calça comprida masculina", 0.8, 1.2),
    ("4102", "Roupa feminina"),
    ("4102003", "Vestido", 0.6, 1.5),
    ("4102011", "Blusa", 0.9, 1.5),
    ("4103", "Roupa infantil"),
    ("4103004", "Uniforme escolar", 0.5, 1.0),
    ("42", "Calçados e acessórios"),
    ("4201", "Calçados e acessórios"),
    ("4201001", "Sapato masculino", 0.5, 1.0),
    ("4201010", "Tênis", 1.0, 1.0),
    ("5", "Transportes"),
    ("51", "Transportes"),
    ("5101", "Transporte público"),
    ("5101001", "Ônibus urbano", 2.6, None),
    ("5101002", "Táxi", 0.3, None),
    ("5101010", "Passagem aérea", 0.5, 15.0),
    ("5102", "Veículo próprio"),
    ("5102001", "Automóvel novo", 3.3, 0.8),
    ("5102004", "Automóvel usado", 1.2, 0.8),
    ("5102013", "Seguro voluntário de veículo", 0.8, 1.5),
    ("5102020", "Conserto de automóvel", 1.0, 0.5),
    ("5104", "Combustíveis (veículos)"),
    ("5104001", "Gasolina", 3.9, 2.5),
    ("5104002", "Etanol", 0.8, 5.0),
    ("6", "Saúde e cuidados pessoais"),
    ("61", "Produtos farmacêuticos e óticos"),
    ("6101", "Produtos farmacêuticos"),
    ("6101001", "Anti-inflamatório e antirreumático", 0.4, 0.8),
    ("6101012", "Antibiótico", 0.3, 0.8),
    ("62", "Serviços de saúde"),
    ("6201", "Serviços médicos e dentários"),
    ("6201001", "Médico", 0.5, 0.5),
    ("6201002", "Dentista", 0.6, 0.5),
    ("6202", "Serviços laboratoriais e hospitalares"),
    ("6202003", "Exame de laboratório", 0.2, 0.5),
    ("6203", "Plano de saúde"),
    ("6203001", "Plano de saúde", 3.9, 0.2),
    ("63", "Cuidados pessoais"),
    ("6301", "Higiene pessoal"),
    ("6301001", "Perfume", 1.2, 2.0),
    ("6301010", "Produto para cabelo", 1.0, 2.0),
    ("7", "Despesas pessoais"),
    ("71", "Serviços pessoais"),
    ("7101", "Serviços pessoais"),
    ("7101008", "Empregado doméstico", 3.6, 0.6),
    ("7101015", "Cabeleireiro", 1.3, 0.4),
    ("72", "Recreação, fumo e fotografia"),
    ("7201", "Recreação"),
    ("7201006", "Cinema", 0.3, 1.0),
    ("7201023", "Alimento para animais", 0.6, 1.0),
    ("7202", "Fumo"),
    ("7202001", "Cigarro", 1.0, None),
    ("8", "Educação"),
    ("81", "Cursos, leitura e papelaria"),
    ("8101", "Cursos regulares"),
    ("8101001", "Creche", 0.3, None),
    ("8101002", "Ensino fundamental", 1.0, None),
    ("8101003", "Ensino médio", 0.5, None),
    ("8101004", "Ensino superior", 1.6, None),
    ("8102", "Leitura"),
    ("8102004", "Livro didático", 0.2, None),
    ("8104", "Cursos diversos"),
    ("8104003", "Curso de idioma", 0.3, 0.5),
    ("9", "Comunicação"),
    ("91", "Comunicação"),
    ("9101", "Comunicação"),
    ("9101002", "Telefone fixo", 1.1, 0.8),
    ("9101008", "Telefone celular", 1.9, 1.0),
    ("9101019", "Aparelho telefônico", 1.0, 1.5),
)
GROUP_WEIGHTS = {"1": 25.2, "2": 15.3, "3": 4.2, "4": 6.2, "5": 18.1, "6": 11.1, "7": 10.6, "8": 4.7, "9": 4.6}
# IBGE's category codes (classification 315) where known; the rest are numbered on from the previous one.
CATEGORY_CODES = {
    "0": 7169,
    "1": 7170,
    "11": 7171,
    "1101": 7172,
    "1101002": 7173,
    "12": 7432,
    "2": 7445,
    "3": 7486,
    "4": 7558,
    "5": 7625,
    "6": 7660,
    "7": 7712,
    "8": 7766,
    "9": 7786,
    "9101008": 7792,
    "9101019": 7794,
}
# Months (1-12) a regulated price moves in, and how much (%): the other months are a true zero, "-".
REGULATED = {
    "2101004": ((5, 3.5), (8, 2.5), (11, 1.5)),
    "5101001": ((1, 6.0), (2, 2.0)),
    "5101002": ((1, 4.0),),
    "7202001": ((5, 6.0), (12, 3.0)),
    "8101001": ((2, 7.0),),
    "8101002": ((2, 8.5),),
    "8101003": ((2, 8.0),),
    "8101004": ((2, 6.5), (3, 1.0)),
    "8102004": ((2, 4.0),),
}
NOT_SURVEYED = (("1105010", dt.date(2016, 6, 1)), ("1103028", dt.date(2017, 9, 1)), ("6201002", dt.date(2018, 3, 1)))
SUPPRESSED = (("1102006", dt.date(2015, 11, 1)), ("7201006", dt.date(2018, 7, 1)))
COMPONENTS_HEADER_NAME = "Geral, grupo, subgrupo, item e subitem"
VARIABLE_NAMES = {
    "63": "IPCA - Variação mensal",
    "66": "IPCA - Peso mensal",
    "2265": "IPCA - Variação acumulada em 12 meses",
    "2266": "IPCA - Número-índice (base: dezembro de 1993 = 100)",
    "44": "INPC - Variação mensal",
    "2292": "INPC - Variação acumulada em 12 meses",
    "355": "IPCA-15 - Variação mensal",
    "1120": "IPCA-15 - Variação acumulada em 12 meses",
    "4099": "Taxa de desocupação, na semana de referência, das pessoas de 14 anos ou mais de idade",
    "11601": "PIMPF - Variação mensal com ajuste sazonal (base: mês imediatamente anterior)",
    "11602": "PIMPF - Variação mensal (base: igual mês do ano anterior)",
    "11708": "PMC - Variação mês/mês imediatamente anterior, com ajuste sazonal (M/M-1)",
    "11623": "PMS - Variação mês/mês imediatamente anterior, com ajuste sazonal (M/M-1)",
    "6564": "Taxa trimestral (em relação ao trimestre imediatamente anterior, com ajuste sazonal)",
    "6561": "Taxa trimestral (em relação ao mesmo período do ano anterior)",
}
UNITS = {"2266": ("30", "Número-índice")}
CATEGORY_NAMES = {
    ("544", "129314"): ("Seções e atividades industriais (CNAE 2.0)", "1 Indústria geral"),
    ("11046", "56734"): ("Tipos de índice", "Índice de volume de vendas no comércio varejista"),
    ("11046", "56726"): ("Tipos de índice", "Índice de volume de serviços"),
    ("11255", "90707"): ("Setores e subsetores", "PIB a preços de mercado"),
}
# Approximately the published quarterly GDP changes (q/q SA, y/y) of 2015..2018, rounded; not the prints.
GDP_QOQ = (-1.0, -2.1, -1.3, -1.2, -1.0, -0.4, -0.7, -0.6, 1.1, 0.3, 0.3, 0.2, 0.3, 0.1, 0.6, 0.1)
GDP_YOY = (-1.6, -3.0, -4.5, -5.8, -5.3, -3.5, -2.6, -2.4, 0.0, 0.6, 1.4, 2.2, 1.2, 0.9, 1.3, 1.1)
# PNAD Contínua unemployment (%) near the real path: (month index from 2015-01, level).
UNEMPLOYMENT_ANCHORS = (
    (0, 6.8),
    (2, 7.9),
    (11, 9.0),
    (14, 10.9),
    (23, 12.0),
    (26, 13.7),
    (35, 11.8),
    (38, 13.1),
    (47, 11.6),
)


def _months() -> list[dt.date]:
    return [dt.date(year, month, 1) for year in YEARS for month in range(1, 13)]


def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return "0." + "0" * decimals if text == "-0." + "0" * decimals else text


# ------------------------------------------------------------------------------------------ the IPCA basket
def _parent(code: str) -> str:
    return {1: "0", 2: code[:1], 4: code[:2], 7: code[:4]}[len(code)]


def category_codes() -> dict[str, str]:
    """Structural code -> classification 315 category code, in the basket's order."""
    codes, last = {"0": str(CATEGORY_CODES["0"])}, CATEGORY_CODES["0"]
    for entry in BASKET:
        last = CATEGORY_CODES.get(entry[0], last + 1)
        codes[entry[0]] = str(last)
    return codes


def basket_components() -> dict[dt.date, dict[str, tuple[float | None, float, str]]]:
    """Month -> structural code -> (change %, weight %, published change text or marker) of every component."""
    subitems = [entry for entry in BASKET if len(entry[0]) == 7]
    shares = {}
    for group, weight in GROUP_WEIGHTS.items():
        members = [entry for entry in subitems if entry[0][0] == group]
        total = sum(entry[2] for entry in members)
        shares.update({entry[0]: weight * entry[2] / total for entry in members})
    rng = random.Random(f"{SEED}/ipca_subitems")
    targets = [float(value) for year in YEARS for value in IPCA_MM[year]]
    weights = dict(shares)
    out = {}
    for month, target in zip(_months(), targets, strict=True):
        fixed = {code: dict(REGULATED[code]).get(month.month, 0.0) for code, *_ in subitems if code in REGULATED}
        drawn = {code: rng.gauss(0.0, sd) for code, _, _, sd in subitems if code not in fixed}
        free = sum(weights[code] for code in drawn)
        shift = (target * 100 - sum(weights[c] * v for c, v in {**fixed, **drawn}.items())) / free
        changes = {**fixed, **{code: value + shift for code, value in drawn.items()}}
        level = {code: (changes[code], weights[code]) for code in changes}
        for length in (4, 2, 1):  # items from subitems, then subgroups, then groups: weighted means
            for code in (entry[0] for entry in BASKET if len(entry[0]) == length):
                pairs = [level[child] for child in level if len(child) > length and _parent(child) == code]
                total = sum(weight for _, weight in pairs)
                level[code] = (sum(change * weight for change, weight in pairs) / total, total)
        level["0"] = (target, 100.0)
        month_out = {}
        for code, (change, weight) in level.items():
            text = IPCA_MM[month.year][month.month - 1] if code == "0" else _number(change, 2)
            if code in fixed and fixed[code] == 0.0:
                text = ibge_sidra.ZERO
            if (code, month) in NOT_SURVEYED:
                text = "..."
            if (code, month) in SUPPRESSED:
                text = "X"
            month_out[code] = (change, weight, text)
        out[month] = month_out
        weights = {code: weights[code] * (1 + changes[code] / 100) / (1 + target / 100) for code in weights}
    return out


# ------------------------------------------------------------------------------------------ the bodies
def _header(period_label: str, classification: str | None) -> dict:
    header = {
        "NC": "Nível Territorial (Código)",
        "NN": "Nível Territorial",
        "MC": "Unidade de Medida (Código)",
        "MN": "Unidade de Medida",
        "V": "Valor",
        "D1C": "Brasil (Código)",
        "D1N": "Brasil",
        "D2C": "Variável (Código)",
        "D2N": "Variável",
        "D3C": f"{period_label} (Código)",
        "D3N": period_label,
    }
    if classification:
        header.update({"D4C": f"{classification} (Código)", "D4N": classification})
    return header


def _record(variable: str, value: str, period: tuple[str, str], category: tuple[str, str] | None) -> dict:
    unit = UNITS.get(variable, PERCENT)
    record = {
        "NC": "1",
        "NN": "Brasil",
        "MC": unit[0],
        "MN": unit[1],
        "V": value,
        "D1C": "1",
        "D1N": "Brasil",
        "D2C": variable,
        "D2N": VARIABLE_NAMES[variable],
        "D3C": period[0],
        "D3N": period[1],
    }
    if category:
        record.update({"D4C": category[0], "D4N": category[1]})
    return record


def _period(frequency: str, day: dt.date, moving: bool) -> tuple[str, str]:
    code = ibge_sidra.period_code(frequency, day)
    if frequency == "quarterly":
        return code, f"{(day.month - 1) // 3 + 1}º trimestre {day.year}"
    if moving:
        return code, f"{'-'.join(SHORT_MONTHS[(day.month - 3 + i) % 12] for i in range(3))} {day.year}"
    return code, f"{MONTHS[day.month - 1]} {day.year}"


def _body(records: list[dict]) -> bytes:
    return json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def components_body(year: int, components, codes: dict[str, str]) -> bytes:
    names = {"0": ibge_sidra.GENERAL_INDEX, **{entry[0]: f"{entry[0]}.{entry[1]}" for entry in BASKET}}
    records = [_header("Mês", COMPONENTS_HEADER_NAME)]
    for month in (m for m in _months() if m.year == year):
        period = _period("monthly", month, False)
        for variable in ("63", "66"):
            for code in names:
                change, weight, text = components[month][code]
                value = text if variable == "63" else _number(weight, 4)
                records.append(_record(variable, value, period, (codes[code], names[code])))
    return _body(records)


def _chained(monthly: list[float], before: list[float]) -> list[float]:
    """12-month changes (%) of each month from monthly ones, `before` being the 12 months before the first."""
    series = [*before, *monthly]
    out = []
    for i in range(len(before), len(series)):
        product = 1.0
        for change in series[i - 11 : i + 1]:
            product *= 1 + change / 100
        out.append((product - 1) * 100)
    return out


def headline_series() -> dict[str, list[str]]:
    """Dataset code -> its values (text) over 2015..2018, one per period."""
    ipca = [float(v) for year in YEARS for v in IPCA_MM[year]]
    index, level = [], IPCA_INDEX_DEC_2014
    for change in ipca:
        level *= 1 + change / 100
        index.append(level)
    rng = random.Random(f"{SEED}/headline")
    inpc_2014 = [v + rng.gauss(0.0, 0.05) for v in IPCA_2014]
    inpc = [round(v + rng.gauss(0.0, 0.08), 2) for v in ipca]
    ipca15 = [round((a + b) / 2 + rng.gauss(0.0, 0.06), 2) for a, b in zip([IPCA_2014[-1], *ipca[:-1]], ipca)]
    ipca15_2014 = [round((a + b) / 2, 2) for a, b in zip([0.6, *IPCA_2014[:-1]], IPCA_2014)]
    unemployment = bridge(rng, list(UNEMPLOYMENT_ANCHORS), 0.15)
    pim = [rng.gauss(-0.2, 1.2) for _ in ipca]
    pim_yoy = [rng.gauss(-8.0 + 0.35 * i, 2.0) for i in range(len(ipca))]
    retail = [rng.gauss(-0.1, 0.9) for _ in ipca]
    services = [rng.gauss(-0.2, 0.8) for _ in ipca]
    return {
        "ipca_mom": [f"{v:.2f}" for v in ipca],
        "ipca_12m": [_number(v, 2) for v in _chained(ipca, list(IPCA_2014))],
        "ipca_index": [_number(v, 2) for v in index],
        "inpc_mom": [_number(v, 2) for v in inpc],
        "inpc_12m": [_number(v, 2) for v in _chained(inpc, inpc_2014)],
        "ipca15_mom": [_number(v, 2) for v in ipca15],
        "ipca15_12m": [_number(v, 2) for v in _chained(ipca15, ipca15_2014)],
        "unemployment_rate": [_number(v, 1) for v in unemployment],
        "industrial_production_mom_sa": [_number(v, 1) for v in pim],
        "industrial_production_yoy": [_number(v, 1) for v in pim_yoy],
        "retail_sales_mom_sa": [_number(v, 1) for v in retail],
        "services_volume_mom_sa": [_number(v, 1) for v in services],
        "gdp_qoq_sa": [_number(v, 1) for v in GDP_QOQ],
        "gdp_yoy": [_number(v, 1) for v in GDP_YOY],
    }


def series_body(spec, year: int, values: list[str]) -> bytes:
    wanted = ibge_sidra.query(spec)
    variable = wanted.variables["value"]
    category = None
    if wanted.classification:
        classification_name, category_name = CATEGORY_NAMES[(wanted.classification, wanted.categories[0])]
        category = (wanted.categories[0], category_name)
    label = "Trimestre" if spec.frequency == "quarterly" else "Mês"
    moving = spec.code == "unemployment_rate"
    records = [_header("Trimestre Móvel" if moving else label, classification_name if category else None)]
    per_year = 4 if spec.frequency == "quarterly" else 12
    for i, value in enumerate(values[(year - YEARS[0]) * per_year : (year - YEARS[0] + 1) * per_year]):
        day = dt.date(year, 1 + i * (12 // per_year), 1)
        records.append(_record(variable, value, _period(spec.frequency, day, moving), category))
    return _body(records)


def captured_at(spec) -> str:
    """Three days after the estimated release of the dataset's last period of 2018, at noon UTC."""
    last = dt.date(2018, 10 if spec.frequency == "quarterly" else 12, 1)
    day = spec.estimated_release(last).date() + dt.timedelta(days=3)
    return f"{day.isoformat()}T12:00:00Z"


def build() -> dict[str, bytes]:
    """Every generated file: name -> bytes."""
    catalog = load_catalog()
    datasets = sorted((s for s in catalog.datasets.values() if s.source == ibge_sidra.SOURCE), key=lambda s: s.code)
    components = basket_components()
    codes = category_codes()
    series = headline_series()
    files, exchanges = {}, []
    for spec in datasets:
        for request in ibge_sidra.requests(spec, dt.date(YEARS[0], 1, 1), dt.date(YEARS[-1], 12, 31)):
            first = ibge_sidra.period_code(spec.frequency, request.first)
            last = ibge_sidra.period_code(spec.frequency, request.last)
            name = f"{spec.code}_t{request.table}_{first}-{last}.json"
            if spec.kind == "index_components":
                files[name] = components_body(request.first.year, components, codes)
                what = (
                    f"IPCA general index, groups, subgroups, items and subitems ({len(codes)} categories): monthly "
                    "change (v63) and weight (v66), the general index the real published IPCA; markers '-', '...' "
                    "and 'X' in some subitem cells"
                )
            else:
                files[name] = series_body(spec, request.first.year, series[spec.code])
                what = f"{spec.name} ({'real published values' if spec.code == 'ipca_mom' else 'plausible values'})"
            exchanges.append(
                exchange(
                    ibge_sidra.request_url(spec, request),
                    {},
                    HEADERS,
                    name,
                    captured_at(spec),
                    "synthetic",
                    f"SYNTHETIC SIDRA /values answer for {request.first.year} in the legacy format: {what}. "
                    "See generate.py.",
                )
            )
    exchanges.sort(key=lambda item: item["captured_at"])  # the manifest lists captures in time order
    manifest = {"source": ibge_sidra.SOURCE, "exchanges": exchanges}
    files["manifest.json"] = manifest_bytes(manifest)
    return files


def generate(out_dir: Path | str = HERE) -> list[str]:
    return write_files(build(), out_dir)


def main(argv: list[str] | None = None) -> int:
    return generator_main(generate, HERE, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
