"""Reference data about Danish and Norwegian municipalities: one validated loader per dataset.

Codes: Danish municipality, region and country codes are integers (101 = København, 81-85 = regions,
0 = the whole country), as Statistics Denmark publishes them. Norwegian municipality codes (kommunenummer, 4 digits)
and county codes (fylkesnummer, 2 digits) are zero-padded strings, as Statistics Norway publishes them. Column names
are English everywhere (``municipality_code`` for any municipality's code); a source's own header is mapped on read.

Every loader returns a DataFrame with ``df.attrs["provenance"]`` (path, origin, source, table, licence, attribution,
sha256) and records the file it read for the report's provenance block (see kommunelab.provenance). The files are the
project's pinned snapshot in data/reference/ (kommunelab.reference); the two tables of figures typed from
publications (national IKU, innovation barometer aggregates) are published tables (data/published/tables/).
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from .. import names
from ..errors import DataError
from . import klass, statbank
from .published import published_table, survey_base  # noqa: F401 (part of this package's API)
from .schema import Column, Schema
from .sources import Dataset, load


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


# The reference datasets. Publisher, source table, address, licence and attribution of each file are in
# data/reference/datapackage.json (kommunelab.reference); columns, keys and completeness checks here.
DK_CODE = {"unit": "code", "minimum": 101, "maximum": 860}  # Danish municipality codes run from 101 to 860
YEAR = {"unit": "year", "minimum": 1900, "maximum": 2100}
DENMARK_KM2 = 43_000  # Denmark's land area is about 42,950 km²: no municipality can be larger

MUNICIPALITIES = Dataset("municipalities", "dk/municipalities.csv", Schema("dk_municipalities", (
    Column("municipality_code", "int", description="official 3-digit municipality code", **DK_CODE),
    Column("name_da", "str"), Column("name_en", "str"),
    Column("region_code", "int", description="81 Nordjylland ... 85 Sjælland", unit="code", minimum=81, maximum=85),
    Column("region_name", "str"),
    Column("area_km2", "float", description="area in km² (Danish Wikipedia list, about 2023)", unit="km²",
           minimum=1, maximum=DENMARK_KM2),
), key=("municipality_code",), checks=(_regions_are_known, _all_municipalities)))

POPULATION = Dataset("population", "dk/population.csv", Schema("dk_population", (
    Column("area_code", "int", unit="code (0 the country, 81-85 regions)", minimum=0, maximum=860),
    Column("level", "str", allowed=("country", "region", "municipality")),
    Column("year", "int", **YEAR), Column("population", "int", description="population on 1 January",
                                          unit="persons", minimum=0, maximum=10_000_000),
), key=("area_code", "year"), checks=(_population_positive, _every_year_complete("area_code", MUNICIPALITY_COUNT),
                                    _population_adds_up)), statbank.folk1a_population)

UNEMPLOYMENT = Dataset("unemployment", "dk/unemployment.csv", Schema("dk_unemployment", (
    Column("municipality_code", "int", **DK_CODE), Column("year", "int", **YEAR),
    Column("unemployed_persons", "int", unit="persons", minimum=0, maximum=1_000_000),
), key=("municipality_code", "year"), checks=(_every_year_complete("municipality_code", MUNICIPALITY_COUNT),)),
    statbank.aul01_unemployment)

INCOME = Dataset("income", "dk/income.csv", Schema("dk_income", (
    Column("area_code", "int", unit="code (0 the country)", minimum=0, maximum=860), Column("year", "int", **YEAR),
    Column("earned_income", "int", source_name="erhvervsindkomst",
           description="earned income (erhvervsindkomst), INDKP101 unit 116: read as DKK per person with the "
                       "income, not verified", unit="DKK per person", minimum=0, maximum=10_000_000),
    Column("capital_income", "int", source_name="formueindkomst", unit="DKK per person (net: can be negative)",
           minimum=-10_000_000, maximum=10_000_000),
    Column("other_personal_income", "int", source_name="anden_personlig_indkomst", unit="DKK per person",
           minimum=0, maximum=10_000_000),
), key=("area_code", "year"), checks=(_every_year_complete("area_code", MUNICIPALITY_COUNT, extra=(0,)),)))

NO_MUNICIPALITIES = Dataset("no_municipalities", "no/municipalities_2017_2019.csv", Schema("no_municipalities", (
    Column("year", "int", **YEAR), Column("municipality_code", "code", width=4, source_name="kommunenummer"),
    Column("municipality_name", "str", source_name="kommunenavn"),
    Column("county_code", "code", width=2, source_name="fylkesnummer"),
    Column("county_name", "str", source_name="fylkesnavn"),
), key=("year", "municipality_code"), checks=(_counties_match_codes,)), klass.municipalities)

DATASETS = {d.name: d for d in (MUNICIPALITIES, POPULATION, UNEMPLOYMENT, INCOME, NO_MUNICIPALITIES)}


def municipalities() -> pd.DataFrame:
    """The 98 Danish municipalities: code, Danish/English name, region, area (km²)."""
    return load(MUNICIPALITIES)


def population(year: int | None = None, level: str | None = None) -> pd.DataFrame:
    """Population on 1 January (FOLK1A) by area and year, 2008-2023; optionally one year and/or level."""
    full = df = load(POPULATION)
    if year is not None:
        if year not in set(df["year"]):
            raise DataError(df.attrs["provenance"]["path"], f"no population for year {year}",
                            hint=f"years available: {df['year'].min()}-{df['year'].max()}")
        df = df[df["year"] == year]
    if level is not None:
        df = df[df["level"] == level]
    return _keep_provenance(df.reset_index(drop=True), full)


def unemployment() -> pd.DataFrame:
    """Unemployed persons by municipality and year (AUL01), 2008-2022."""
    return load(UNEMPLOYMENT)


def income() -> pd.DataFrame:
    """Average income per person by area (0 = country) and year (INDKP101), 2008-2021."""
    return load(INCOME)


def no_municipalities(year: int | None = None) -> pd.DataFrame:
    """Norwegian municipalities valid on 1 January of 2017, 2018 and 2019 (KLASS 131)."""
    df = load(NO_MUNICIPALITIES)
    if year is not None:
        df = _keep_provenance(df[df["year"] == year].reset_index(drop=True), df)
    return df


def iku_national() -> pd.DataFrame:
    """National IKU (share of municipal tasks exposed to competition), as published."""
    return published_table("iku_national")


def barometer_aggregates() -> pd.DataFrame:
    """Published aggregate percentages from the Danish, Norwegian and Swedish innovation barometers."""
    return published_table("innovation_barometer_aggregates")


def _keep_provenance(df: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    df.attrs["provenance"] = source.attrs.get("provenance", {})
    return df


# ---- municipality names and codes ------------------------------------------------------------------------------

@cache
def municipality_choices() -> dict[str, str]:
    """Every accepted spelling of a municipality -> its canonical code as a string ("270").

    Accepts the code (270, "270"), the Danish and English names, and case- and accent-folded forms.
    The validated twin of kommunelab.choices.municipality_choices (which the manifest uses, without pandas).
    """
    from ..choices import spellings_table

    return spellings_table(municipalities()[["municipality_code", "name_da", "name_en"]].itertuples(index=False))


def municipality_code(value: str | int) -> int:
    """The municipality code for a code or a name; unknown values raise with the closest valid names."""
    table = municipality_choices()
    code = names.resolve(table, value)
    if code is not None:
        return int(code)
    close = names.closest(table, value)
    raise DataError("dk/municipalities.csv", f"no municipality {value!r}",
                    hint=f"closest: {', '.join(close)}" if close else "use a 3-digit code or a Danish name")


# Size classes by inhabitants. KORA (2016) groups municipalities by number of inhabitants but its thresholds
# could not be read (FACTS.md, KORA methods), so these are the project's assumption, stated in every report
# that shows them.
SIZE_CLASSES = ((0, 20_000, "under 20,000"), (20_000, 40_000, "20,000-39,999"), (40_000, 60_000, "40,000-59,999"),
                (60_000, 100_000, "60,000-99,999"), (100_000, 10**9, "100,000 or more"))
SIZE_CLASS_NOTE = ("Size classes by inhabitants are the project's assumption: KORA (2016) classifies by number of "
                   "inhabitants, but its thresholds were not available.")


def size_class(inhabitants: int) -> str:
    for low, high, label in SIZE_CLASSES:
        if low <= inhabitants < high:
            return label
    raise ValueError(f"inhabitants must be >= 0, got {inhabitants}")
