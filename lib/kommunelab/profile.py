"""The municipality profile: one Danish municipality beside its region and the country, from public data."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import data
from .i18n import N_, _


@dataclass(frozen=True)
class Profile:
    code: int
    name: str
    region_code: int
    region_name: str
    year: int
    area_km2: float
    population: int
    density: float
    size_class: str
    unemployed_per_100: float
    income: int
    country_income: int


# Official names that the rule "{name} Municipality" (in Danish "{name} Kommune", from the catalog) does not give
OFFICIAL_NAMES = {"da": {101: "Københavns Kommune", 400: "Bornholms Regionskommune"}}


def official_name(p: Profile) -> str:
    """The municipality's name as it calls itself in the run's language: "Københavns Kommune", "Gribskov Kommune";
    in English "Gribskov Municipality"."""
    from .i18n import language

    return OFFICIAL_NAMES.get(language(), {}).get(p.code) or _("{name} Municipality").format(name=p.name)


def _area_population(pop: pd.DataFrame, codes: dict[str, int]) -> pd.DataFrame:
    frames = []
    for label, code in codes.items():
        part = pop[pop["area_code"] == code][["year", "population"]].assign(area=label)
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


def profile(code: str | int, year: int) -> Profile:
    """The municipality's profile for ``year``. ``code`` is its code as ``parameters()`` leaves the notebook's
    parameter ("270"): the name was resolved once, when the variant was planned, and is not looked up again."""
    municipalities = data.municipalities().set_index("municipality_code")
    if not str(code).isdigit() or int(code) not in municipalities.index:
        raise data.DataError("dk/municipalities.csv", f"no municipality with code {code!r}",
                             hint="pass the code parameters() gives (or data.municipality_code(name))")
    code = int(code)
    muni = municipalities.loc[code]
    pop = data.population(year=year).set_index("area_code")["population"]
    unemp = data.unemployment()
    inc = data.income()
    unemployed = unemp[(unemp["municipality_code"] == code) & (unemp["year"] == year)]["unemployed_persons"]
    income = inc[(inc["area_code"] == code) & (inc["year"] == year)]["earned_income"]
    country_income = inc[(inc["area_code"] == 0) & (inc["year"] == year)]["earned_income"]
    if unemployed.empty or income.empty:
        raise data.DataError("dk/unemployment.csv, dk/income.csv", f"no unemployment or income for {code} in {year}")
    population = int(pop.loc[code])
    return Profile(code, muni["name_da"], int(muni["region_code"]), muni["region_name"], year,
                   float(muni["area_km2"]), population, population / float(muni["area_km2"]),
                   data.size_class(population), 100 * float(unemployed.iloc[0]) / population, int(income.iloc[0]),
                   int(country_income.iloc[0]))


def population_index(p: Profile, base_year: int = 2008) -> pd.DataFrame:
    """Population by year for municipality, region and country, and as an index (base_year = 100)."""
    pop = data.population()
    long = _area_population(pop, {p.name: p.code, p.region_name: p.region_code, _("Denmark"): 0})
    base = long[long["year"] == base_year].set_index("area")["population"]
    long["index"] = 100 * long["population"] / long["area"].map(base)
    return long


def unemployment_per_100(p: Profile) -> pd.DataFrame:
    """Unemployed persons per 100 inhabitants by year, for the municipality, its region and the country.

    Not the official unemployment rate (which divides by the labour force, not published in the mirror).
    """
    unemp = data.unemployment()
    munis = data.municipalities()[["municipality_code", "region_code"]]
    pop = data.population(level="municipality").rename(columns={"area_code": "municipality_code"})
    merged = unemp.merge(pop[["municipality_code", "year", "population"]], on=["municipality_code", "year"])
    merged = merged.merge(munis, on="municipality_code")
    rows = []
    for label, mask in ((p.name, merged["municipality_code"] == p.code),
                        (p.region_name, merged["region_code"] == p.region_code),
                        (_("Denmark"), merged["municipality_code"] > 0)):
        sums = merged[mask].groupby("year")[["unemployed_persons", "population"]].sum()
        rows.append(pd.DataFrame({"year": sums.index, "area": label,
                                  "per_100": 100 * sums["unemployed_persons"] / sums["population"]}))
    return pd.concat(rows, ignore_index=True)


def rankings(p: Profile) -> pd.DataFrame:
    """Where the municipality ranks among the 98 (1 = highest) on population, density, unemployment, income."""
    munis = data.municipalities()
    pop = data.population(year=p.year, level="municipality").rename(columns={"area_code": "municipality_code"})
    unemp = data.unemployment()
    inc = data.income().rename(columns={"area_code": "municipality_code"})
    df = munis.merge(pop[["municipality_code", "population"]], on="municipality_code")
    df["density"] = df["population"] / df["area_km2"]
    df = df.merge(unemp[unemp["year"] == p.year][["municipality_code", "unemployed_persons"]], on="municipality_code")
    df["unemployed_per_100"] = 100 * df["unemployed_persons"] / df["population"]
    df = df.merge(inc[inc["year"] == p.year][["municipality_code", "earned_income"]], on="municipality_code")
    measures = {"population": N_("Population"), "density": N_("Inhabitants per km²"),
                "unemployed_per_100": N_("Unemployed per 100 inhabitants"),
                "earned_income": N_("Earned income per person, DKK")}
    rows = []
    for column, label in measures.items():
        rank = df[column].rank(ascending=False, method="min")
        own = df["municipality_code"] == p.code
        rows.append({"measure": _(label), "value": float(df.loc[own, column].iloc[0]),
                     "median_of_98": float(df[column].median()), "rank": int(rank[own].iloc[0]), "of": len(df)})
    return pd.DataFrame(rows)


def size_class_counts(year: int) -> pd.DataFrame:
    """How many municipalities fall in each size class in ``year``."""
    pop = data.population(year=year, level="municipality")
    classes = pop["population"].map(data.size_class)
    order = [label for _, _, label in data.SIZE_CLASSES]
    counts = classes.value_counts().reindex(order, fill_value=0)
    return pd.DataFrame({"size_class": order, "municipalities": counts.to_numpy()})


def trend_figure(frame: pd.DataFrame, column: str, p: Profile, locale: str | None = None, *, ylabel: str, title: str,
                 decimals: int = 0, baseline: float | None = None):
    """A line per area (municipality, region, country) of ``column`` by year, the profiled year dashed, the y axis
    labelled in the locale's format; returns (figure, axes)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import plots

    fig, ax = plt.subplots()
    sns.lineplot(data=frame, x="year", y=column, hue="area", marker="o", ax=ax)
    if baseline is not None:
        ax.axhline(baseline, color=plots.CONTEXT, lw=0.8)
    ax.axvline(p.year, color=plots.CONTEXT, lw=0.8, ls="--")
    ax.set(xlabel="", ylabel=ylabel, title=title)
    ax.legend(title=None)
    plots.number_axis(ax, "y", locale, decimals)
    return fig, ax
