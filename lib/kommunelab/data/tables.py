"""Every table the project reads, declared once as data (the model: PUDL's metadata/fields.py and resources/):
``FIELDS``, the columns several tables share, each written once with its type, unit and bounds; ``TABLES``, each
table's columns (a shared field by name, or a Column of its own), key, completeness checks, source and licence.

The loaders (kommunelab.data for the reference snapshot and the published tables, kommunelab.findings,
kommunelab.survey, kommunelab.synthetic, kommunelab.analysis.di) read their schema from here, by table name, and
read it one way (kommunelab.data.schema.load_table).
"""

from __future__ import annotations

import pandas as pd

from ..errors import DataError
from ..records import EVIDENCE, UNITS, Check
from .schema import ROW_UNIT, Column, Schema

MUNICIPALITY_COUNT = 98
CHRISTIANSOE_GAP = 150  # Christiansø (about 90 inhabitants) belongs to no municipality: the only gap allowed
DENMARK_KM2 = 43_000  # Denmark's land area is about 42,950 km²: no municipality can be larger
YES_NO = (0, 1)

DK_CODE = {"unit": "code", "minimum": 101, "maximum": 860}  # Danish municipality codes run from 101 to 860
YEAR = {"unit": "year", "minimum": 1900, "maximum": 2100}
PERCENT = {"unit": "percent", "minimum": 0, "maximum": 100}

# -- fields: columns that several tables share, written once ---------------------------------------------------------
FIELDS = {c.name: c for c in (
    Column("year", "int", **YEAR),
    Column("municipality_code", "int", description="official 3-digit municipality code", **DK_CODE),
    Column("region_code", "int", description="81 Nordjylland ... 85 Sjælland", unit="code", minimum=81, maximum=85),
    Column("share_pct", "float", **PERCENT),
    Column("published_text", "str"),
    Column("facts_id", "str", description="the figure's id in the project's register of facts (FACTS-style: KL-10)"),
    Column("source", "str", description="the address the figure was read from"),
    Column("quote", "str", description="the words that state the figure, as published"),
    Column("note", "str", nullable=True),
)}


def _columns(*items: str | Column) -> tuple[Column, ...]:
    """A table's columns: a shared field by name, or a column of this table's own."""
    return tuple(FIELDS[item] if isinstance(item, str) else item for item in items)


def _quoted(*items: str | Column) -> tuple[Column, ...]:
    """The columns of a table of figures quoted from publications: its own, then facts id, source and quote."""
    return _columns(*items, "facts_id", "source", "quote")


QUOTED = {"source": "the reports and the pages that announced them (address and quote on every row)",
          "licence": "figures quoted from publications, with their sources"}


# -- checks: what a whole table must satisfy beyond its columns --------------------------------------------------------
def _regions_are_known(df: pd.DataFrame, where: str) -> None:
    bad = ~df["region_code"].isin([81, 82, 83, 84, 85])
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(where, f"region code {df.loc[i, 'region_code']} is not 81-85", row=i + 2, column="region_code")


def _population_positive(df: pd.DataFrame, where: str) -> None:
    bad = df["population"] <= 0
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(where, "population must be positive", row=i + 2, column="population")


MUNICIPALITY_COUNT = 98
CHRISTIANSOE_GAP = 150  # Christiansø (about 90 inhabitants) belongs to no municipality: the only gap allowed


def _every_year_complete(column: str, expected: int, extra: tuple[int, ...] = ()):
    """A check that every year holds all ``expected`` municipalities (and the ``extra`` codes, e.g. 0 for the country)."""
    def check(df: pd.DataFrame, where: str) -> None:
        munis = df[~df[column].isin(extra)] if extra else df
        if "level" in df.columns:
            munis = df[df["level"] == "municipality"]
        codes = munis.groupby("year")[column].nunique()
        short = codes[codes != expected]
        if not short.empty:
            year = int(short.index[0])
            raise DataError(where, f"incomplete: year {year} has {int(short.iloc[0])} of {expected} municipalities",
                            column=column, hint="the file is cut short or the source left some out; fetch it again")
        for code in extra:
            missing = sorted(set(df["year"]) - set(df.loc[df[column] == code, "year"]))
            if missing:
                raise DataError(where, f"incomplete: no row for area {code} in {missing[0]}", column=column)
    return check


def _population_adds_up(df: pd.DataFrame, where: str) -> None:
    """Country, regions and municipalities present every year; regions sum to the country; municipalities to within
    the Christiansø gap of it."""
    levels = df.groupby(["year", "level"]).size().unstack(fill_value=0)
    for level, n in (("country", 1), ("region", 5)):
        bad = levels.index[levels.get(level, 0) != n] if level in levels else levels.index
        if len(bad):
            raise DataError(where, f"incomplete: year {int(bad[0])} has {int(levels.loc[bad[0]].get(level, 0))} "
                            f"{level} row(s), expected {n}", column="level")
    totals = df.groupby(["year", "level"])["population"].sum().unstack()
    gap = totals["country"] - totals["municipality"]
    off = gap[(gap < 0) | (gap > CHRISTIANSOE_GAP)]
    if not off.empty:
        raise DataError(where, f"the municipalities of {int(off.index[0])} sum to {int(totals.loc[off.index[0], 'municipality'])},"
                        f" {int(off.iloc[0])} short of the country's {int(totals.loc[off.index[0], 'country'])}",
                        column="population", hint="a municipality is missing or counted twice")
    if not (totals["country"] == totals["region"]).all():
        year = int(totals.index[totals["country"] != totals["region"]][0])
        raise DataError(where, f"the regions of {year} do not sum to the country", column="population")


def _counties_match_codes(df: pd.DataFrame, where: str) -> None:
    bad = df["county_code"] != df["municipality_code"].str[:2]
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(where, "county code is not the municipality code's first two digits", row=i + 2,
                        column="county_code")


def _all_municipalities(df: pd.DataFrame, where: str) -> None:
    if len(df) != MUNICIPALITY_COUNT or df["region_code"].nunique() != 5:
        raise DataError(where, f"incomplete: {len(df)} municipalities in {df['region_code'].nunique()} regions, "
                        f"expected {MUNICIPALITY_COUNT} in 5")


def _every_municipality_in_every_account(df: pd.DataFrame, where: str) -> None:
    """DI's model compares each municipality with the best ten of its main account and sums over the country: every
    code must be one of the 98 municipalities, and every municipality must have a row in every main account."""
    from . import municipalities

    known = municipalities().set_index("municipality_code")["name_da"]
    unknown = ~df["municipality_code"].isin(known.index)
    if unknown.any():
        i = int(unknown.to_numpy().nonzero()[0][0])
        raise DataError(where, f"{df.loc[i, 'municipality_code']} is not the code of one of the 98 municipalities",
                        row=i + 2, column="municipality_code", hint="Use the 3-digit codes of Statistics Denmark")
    for account, part in df.groupby("main_account"):
        missing = known.index.difference(part["municipality_code"])
        if len(missing):
            names = ", ".join(f"{known[c]} ({c})" for c in missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise DataError(where, f"incomplete: main account {account} has {len(part)} of 98 municipalities; "
                            f"missing {names}", column="municipality_code",
                            hint="Give every municipality a row in every main account (spending 0 where it has none): "
                                 "a national total from part of the country would be understated")


# -- survey microdata (the analyst's files, or the project's synthetic stand-ins) ------------------------------------
# What the number columns of the survey tables count, and the values they can take (0/1 answers have `allowed`).
SURVEY_NUMBERS = {
    "id": {"unit": "id", "minimum": 1},
    "municipality_code": {"unit": "code (0: a workplace of no municipality)", "minimum": 0, "maximum": 860},
    "region_code": {"unit": "code", "minimum": 81, "maximum": 85},
    "weight": {"unit": "survey weight", "minimum": 0},
    "civil_partners": {"unit": "partners", "minimum": 0, "maximum": 1000},
    "established": {"unit": "year", "minimum": 1800, "maximum": 2100},
}


def _survey(name: str, cols: list[tuple]) -> Schema:
    """A survey table from (name, kind, nullable[, allowed[, description]]) rows. Answer columns are nullable: a blank
    is item non-response (or a question not asked), never "no"."""
    def numbers(column: str, kind: str, allowed) -> dict:
        if kind not in ("int", "float") or allowed is not None:
            return {}
        return SURVEY_NUMBERS["id" if column.endswith("_id") else column]

    return Schema(name, tuple(Column(c[0], c[1], nullable=c[2], allowed=c[3] if len(c) > 3 else None,
                                     description=c[4] if len(c) > 4 else "",
                                     **numbers(c[0], c[1], c[3] if len(c) > 3 else None)) for c in cols))


SURVEY_TABLES = {
    "coi_workplaces": _survey("coi_workplaces", [
        ("workplace_id", "int", False), ("sector", "str", False, ("municipal", "regional", "state")),
        ("stratum", "str", False), ("municipality_code", "int", False), ("weight", "float", False),
        ("innovated", "int", False, YES_NO), ("citizens_role", "int", True, YES_NO),
        ("volunteers_role", "int", True, YES_NO), ("democratic_value", "int", True, YES_NO),
        ("outside_actor", "int", True, YES_NO), ("same_municipality", "int", True, YES_NO),
        ("external_party", "int", True, YES_NO)]),
    "ks_units": _survey("ks_units", [
        ("unit_id", "int", False), ("municipality_code", "str", False), ("county_code", "str", False),
        ("sector", "str", False, ("education & childhood", "health & care")), ("weight", "float", False),
        ("innovated", "int", False, YES_NO), ("value_quality", "int", True, YES_NO),
        ("value_employee_satisfaction", "int", True, YES_NO), ("value_efficiency", "int", True, YES_NO),
        ("value_citizen_influence", "int", True, YES_NO), ("main_driver", "str", True)]),
    "kora_heads": _survey("kora_heads", [
        ("head_id", "int", False), ("municipality_code", "int", False), ("region_code", "int", False),
        ("policy_area", "str", False), ("size_class", "str", False), ("mayor_party", "str", False, ("red", "blue")),
        ("spending_pressure", "str", False, ("high", "other")), ("responded", "int", False, YES_NO),
        ("increased_focus", "int", True, YES_NO), ("overall_value", "str", True)]),
    "kora_collaborations": _survey("kora_collaborations", [
        ("collaboration_id", "int", False), ("head_id", "int", False), ("policy_area", "str", False),
        ("cross_area", "int", True, YES_NO), ("civil_partners", "int", True), ("long_term", "int", True, YES_NO),
        ("initiator", "str", True)]),
    "kl_collaborations": _survey("kl_collaborations", [
        ("collaboration_id", "int", False), ("municipality_code", "int", False), ("main_purpose", "str", True),
        ("partner_type", "str", True), ("established", "int", True), ("company_form", "int", True, YES_NO)]),
}


# The survey questions behind each survey column, as a research centre's delivery names and labels them: (variable
# name, variable label) in the survey's language (Danish; Norwegian for KS). `kommunelab synthetic --delivery` writes
# the stand-ins under these names; `kommunelab microdata init` matches a delivery's variable names and labels against
# them (and against the English column names). The questionnaires themselves are not public: the labels are the
# project's wording of each question after the reports, not quotations.
QUESTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "coi_workplaces": {
        "workplace_id": ("arbejdsplads_id", "Arbejdspladsens løbenummer"),
        "sector": ("sektor", "Sektor (kommunal, regional eller statslig)"),
        "stratum": ("stratum", "Stratum i stikprøven"),
        "municipality_code": ("kommunenr", "Kommunenummer (0 = ingen kommune)"),
        "weight": ("vaegt", "Vægt"),
        "innovated": ("spm1_innovation", "Har arbejdspladsen indført innovationer i de seneste to år?"),
        "citizens_role": ("spm7_borgere", "Har borgere spillet en rolle i den seneste innovation?"),
        "volunteers_role": ("spm7_frivillige", "Har frivillige foreninger spillet en rolle i den seneste innovation?"),
        "democratic_value": ("spm9_demokrati", "Har den seneste innovation skabt demokratisk værdi?"),
        "outside_actor": ("spm6_udenfor", "Samarbejde med aktører uden for arbejdspladsen om den seneste innovation"),
        "same_municipality": ("spm6_kommune", "Samarbejde med en anden arbejdsplads i samme kommune"),
        "external_party": ("spm6_ekstern", "Samarbejde med mindst én ekstern part"),
    },
    "ks_units": {
        "unit_id": ("enhet_id", "Enhetens løpenummer"),
        "municipality_code": ("kommunenr", "Kommunenummer"),
        "county_code": ("fylkesnr", "Fylkesnummer"),
        "sector": ("sektor", "Sektor (oppvekst og utdanning, helse og omsorg)"),
        "weight": ("vekt", "Vekt"),
        "innovated": ("sp1_innovasjon", "Har enheten innført innovasjoner de siste to årene?"),
        "value_quality": ("sp8_kvalitet", "Har den nyeste innovasjonen ført til bedre kvalitet?"),
        "value_employee_satisfaction": ("sp8_trivsel", "Har den nyeste innovasjonen ført til økt trivsel blant ansatte?"),
        "value_efficiency": ("sp8_effektivitet", "Har den nyeste innovasjonen ført til økt effektivitet?"),
        "value_citizen_influence": ("sp8_innflytelse", "Har den nyeste innovasjonen gitt innbyggerne mer innflytelse?"),
        "main_driver": ("sp5_driver", "Hva var den viktigste driveren for innovasjonen?"),
    },
    "kora_heads": {
        "head_id": ("chef_id", "Chefens løbenummer"),
        "municipality_code": ("kommunenr", "Kommunenummer"),
        "region_code": ("regionskode", "Regionskode"),
        "policy_area": ("fagomraade", "Fag- eller forvaltningsområde"),
        "size_class": ("kommunestoerrelse", "Kommunestørrelse (indbyggere)"),
        "mayor_party": ("borgmester_blok", "Borgmesterens parti (rød eller blå blok)"),
        "spending_pressure": ("udgiftspres", "Udgiftspres i kommunen"),
        "responded": ("besvaret", "Har besvaret hele eller dele af spørgeskemaet"),
        "increased_focus": ("spm3_fokus", "Har området øget fokus på samarbejde med civilsamfundet inden for det seneste år?"),
        "overall_value": ("spm12_vaerdi", "Hvad er samlet set den vigtigste værdi af samarbejdet?"),
    },
    "kora_collaborations": {
        "collaboration_id": ("samarbejde_id", "Samarbejdets løbenummer"),
        "head_id": ("chef_id", "Chefens løbenummer"),
        "policy_area": ("fagomraade", "Fag- eller forvaltningsområde"),
        "cross_area": ("spm5_tvaers", "Går samarbejdet på tværs af forvaltningsområder?"),
        "civil_partners": ("spm6_antal", "Antal civile samarbejdspartnere"),
        "long_term": ("spm7_varighed", "Er samarbejdet langvarigt?"),
        "initiator": ("spm8_initiativ", "Hvem tog initiativ til samarbejdet?"),
    },
    "kl_collaborations": {
        "collaboration_id": ("samarbejde_id", "Samarbejdets løbenummer"),
        "municipality_code": ("kommunenr", "Kommunenummer"),
        "main_purpose": ("formaal", "Samarbejdets væsentligste formål"),
        "partner_type": ("partnertype", "Type af samarbejdspart"),
        "established": ("etableret", "Etableringsår"),
        "company_form": ("selskabsform", "Er samarbejdet organiseret i selskabsform?"),
    },
}


# -- every table, by name ----------------------------------------------------------------------------------------------
TABLES: dict[str, Schema] = {s.name: s for s in (
    # The reference snapshot (data/reference/; publisher, address, licence and attribution in its datapackage.json).
    Schema("dk_municipalities", _columns(
        "municipality_code", Column("name_da", "str"), Column("name_en", "str"), "region_code",
        Column("region_name", "str"),
        Column("area_km2", "float", description="area in km² (Danish Wikipedia list, about 2023)", unit="km²",
               minimum=1, maximum=DENMARK_KM2),
    ), key=("municipality_code",), checks=(_regions_are_known, _all_municipalities)),
    Schema("dk_population", _columns(
        Column("area_code", "int", unit="code (0 the country, 81-85 regions)", minimum=0, maximum=860),
        Column("level", "str", allowed=("country", "region", "municipality")),
        "year", Column("population", "int", description="population on 1 January", unit="persons", minimum=0,
                       maximum=10_000_000),
    ), key=("area_code", "year"), checks=(_population_positive, _every_year_complete("area_code", MUNICIPALITY_COUNT),
                                        _population_adds_up)),
    Schema("dk_unemployment", _columns(
        "municipality_code", "year", Column("unemployed_persons", "int", unit="persons", minimum=0, maximum=1_000_000),
    ), key=("municipality_code", "year"), checks=(_every_year_complete("municipality_code", MUNICIPALITY_COUNT),)),
    Schema("dk_income", _columns(
        Column("area_code", "int", unit="code (0 the country)", minimum=0, maximum=860), "year",
        Column("earned_income", "int", source_name="erhvervsindkomst",
               description="earned income (erhvervsindkomst), INDKP101 unit 116: read as DKK per person with the "
                           "income, not verified", unit="DKK per person", minimum=0, maximum=10_000_000),
        Column("capital_income", "int", source_name="formueindkomst", unit="DKK per person (net: can be negative)",
               minimum=-10_000_000, maximum=10_000_000),
        Column("other_personal_income", "int", source_name="anden_personlig_indkomst", unit="DKK per person",
               minimum=0, maximum=10_000_000),
    ), key=("area_code", "year"), checks=(_every_year_complete("area_code", MUNICIPALITY_COUNT, extra=(0,)),)),
    Schema("no_municipalities", _columns(
        "year", Column("municipality_code", "code", width=4, source_name="kommunenummer"),
        Column("municipality_name", "str", source_name="kommunenavn"),
        Column("county_code", "code", width=2, source_name="fylkesnummer"),
        Column("county_name", "str", source_name="fylkesnavn"),
    ), key=("year", "municipality_code"), checks=(_counties_match_codes,)),
    # Figures quoted from the reports (data/published/tables/<name>.csv).
    Schema("nordic_municipal_innovation", _quoted(
        Column("indicator", "str"), Column("dk_pct", "float", **PERCENT), Column("no_pct", "float", **PERCENT)),
        key=("indicator",), **QUOTED),
    Schema("ks_sector_rates", _quoted(Column("sector", "str"), "share_pct", "published_text"), key=("sector",),
           **QUOTED),
    Schema("ks_value_forms", _quoted(Column("value_form", "str"), "share_pct", Column("rule", "str"),
                                     "published_text"), key=("value_form",), **QUOTED),
    Schema("di_published_inputs", _quoted(
        Column("name", "str"), Column("value", "float", unit=ROW_UNIT), Column("unit", "str"), "year",
        Column("rule", "str", nullable=True)),
        key=("name",), **QUOTED),
    Schema("iku_national", _columns(
        "year", Column("iku_all_municipalities_pct", "float", **PERCENT), Column("source_url", "str"), "note"),
        key=("year",), source="KL, ministry and udbudsportalen news pages (address on every row)",
        source_table="IKU (national)", licence=QUOTED["licence"]),
    Schema("survey_bases", _columns(
        Column("survey", "str"), Column("base", "str"), Column("n", "int", unit="respondents", minimum=1),
        Column("kind", "str"), "facts_id", "source", "note"), key=("survey", "base"), **QUOTED),
    # The published claims each finding is recorded against (data/published/findings.csv).
    Schema("findings", _columns(
        Column("id", "str"), Column("report", "str"), "facts_id", Column("statement_en", "str"),
        Column("statement_original", "str"), Column("published_value", "float", nullable=True, unit=ROW_UNIT),
        "published_text", Column("unit", "str", allowed=UNITS), Column("base", "str"),
        Column("year", "str", description="the period the figure describes, as written (2015-2016)"),
        Column("target_rule", "str"), Column("target_low", "float", nullable=True, unit=ROW_UNIT),
        Column("target_high", "float", nullable=True, unit=ROW_UNIT), Column("check", "str", allowed=tuple(Check)),
        Column("evidence", "str", allowed=EVIDENCE), "source", "quote"),
        key=("id",), source_table="findings.csv", **QUOTED),
    # The true values the stand-in generator recorded (data/synthetic/truth.csv).
    Schema("stand_in_truth", _columns(
        Column("finding_id", "str"), Column("scope", "str"), Column("truth", "float", unit="the finding's unit"),
        Column("basis", "str", allowed=("population", "census", "model")), Column("what", "str")),
        key=("finding_id", "scope"), source="generated by kommunelab.synthetic", source_table="truth.csv",
        licence="MIT (the project's)"),
    # The analyst's municipal input to the DI calculator.
    Schema("di_municipal_input", _columns(
        "municipality_code",
        Column("main_account", "str", description="hovedkonto of the municipal chart of accounts, e.g. '0' .. '6'"),
        Column("spending_dkk", "float", description="spending on tasks that can be exposed to competition, DKK",
               unit="DKK", minimum=0),
        Column("iku_pct", "float", description="share of that spending exposed to competition, percent",
               **PERCENT)),
        key=("municipality_code", "main_account"), checks=(_every_municipality_in_every_account,),
        source="the analyst's municipal input file (e.g. noegletal.dk)", licence="as the file's source allows"),
    *SURVEY_TABLES.values(),
)}
