"""Reference data about Danish and Norwegian municipalities: one validated loader per dataset.

Codes: Danish municipality, region and country codes are integers (101 = København, 81-85 = regions,
0 = the whole country), as Statistics Denmark publishes them. Norwegian municipality codes (kommunenummer, 4 digits)
and county codes (fylkesnummer, 2 digits) are zero-padded strings, as Statistics Norway publishes them. Column names
are English everywhere (``municipality_code`` for any municipality's code); a source's own header is mapped on read.

Every loader returns a DataFrame with ``df.attrs["provenance"]`` (path, origin, source, table, licence, attribution,
sha256) and records the file it read for the report's provenance block (see kommunelab.provenance). The files are the
project's pinned snapshot in data/reference/ (kommunelab.reference); the national IKU, typed from publications, is a
published table (data/published/tables/).
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from .. import names
from ..errors import DataError
from ..i18n import N_
from . import klass, statbank
from .published import published_table, survey_base  # noqa: F401 (part of this package's API)
from .sources import Dataset, load
from .tables import MUNICIPALITY_COUNT, TABLES  # noqa: F401 (MUNICIPALITY_COUNT: part of this package's API)

# The reference datasets: where each lies in the snapshot, its table (kommunelab.data.tables) and its download route.
# Publisher, source table, address, licence and attribution of each file are in data/reference/datapackage.json.
MUNICIPALITIES = Dataset("municipalities", "dk/municipalities.csv", TABLES["dk_municipalities"])
POPULATION = Dataset("population", "dk/population.csv", TABLES["dk_population"], statbank.folk1a_population)
UNEMPLOYMENT = Dataset("unemployment", "dk/unemployment.csv", TABLES["dk_unemployment"], statbank.aul01_unemployment)
INCOME = Dataset("income", "dk/income.csv", TABLES["dk_income"])
NO_MUNICIPALITIES = Dataset("no_municipalities", "no/municipalities_2017_2019.csv", TABLES["no_municipalities"],
                            klass.municipalities)

DATASETS = {d.name: d for d in (MUNICIPALITIES, POPULATION, UNEMPLOYMENT, INCOME, NO_MUNICIPALITIES)}


def warm() -> None:
    """Read and validate every reference dataset into this process's cache, kept per version of each file, without
    recording a read: a build's kernel template calls it once, so each variant's kernel (a fork of the template)
    finds them read. A variant still records every file it uses, with its checksum then; a file changed since is read
    again (the cache's key is the file's version), and one that fails here fails in the variant that reads it."""
    from ..reference import locate
    from .schema import read_validated

    for dataset in DATASETS.values():
        try:
            read_validated(locate(dataset.path)[0], dataset.schema)
        except Exception:  # the variant that reads it says what is wrong, in its own cell
            pass


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
    return names.spellings_table(municipalities()[["municipality_code", "name_da", "name_en"]].itertuples(index=False))


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
SIZE_CLASS_NOTE = N_("Size classes by inhabitants are the project's assumption: KORA (2016) classifies by number "
                      "of inhabitants, but its thresholds were not available.")


def category(value) -> str:
    """A data category in the run's language: an answer code of a survey table ("better quality", "municipal"), a
    size class ("20.000–39.999"), an indicator of a published table. The catalogs hold every category of the data the
    project ships (kommunelab.translations extracts them from it); a value outside them is shown as it is."""
    from ..i18n import _

    return size_class_label(str(value)) or _(str(value))


def size_class_label(code: str) -> str | None:
    """A size class as a reader of the run's language writes it ("under 20.000", "20.000–39.999", "100.000 eller
    flere"); None when ``code`` is not a size class."""
    from .. import fmt
    from ..i18n import _

    for low, high, label in SIZE_CLASSES:
        if label == code:
            if low == 0:
                return _("under {n}").format(n=fmt.number(high))
            if high >= 10**9:
                return _("{n} or more").format(n=fmt.number(low))
            return fmt.number_range(low, high - 1)
    return None


def size_class(inhabitants: int) -> str:
    for low, high, label in SIZE_CLASSES:
        if low <= inhabitants < high:
            return label
    raise ValueError(f"inhabitants must be >= 0, got {inhabitants}")
