"""The municipality profile: one Danish municipality beside its region and the country, from public data."""

from __future__ import annotations

import textwrap
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


# The profile's key figures, recorded as findings with no published value (kommunelab.findings.recorded): id ->
# (the Profile field, statement, unit, decimals, source table). A data update that moves one shows in drift.json.
KEY_FIGURES = {
    "profile.population": ("population", N_("Population on 1 January"), "count", 0, N_("Statistics Denmark, FOLK1A")),
    "profile.density": ("density", N_("Inhabitants per km²"), "count", 1, N_("Statistics Denmark, FOLK1A")),
    "profile.unemployed_per_100": ("unemployed_per_100", N_("Unemployed per 100 inhabitants"), "ratio", 1,
                                   N_("Statistics Denmark, AUL01")),
    "profile.earned_income": ("income", N_("Earned income per person"), "dkk", 0, N_("Statistics Denmark, INDKP101")),
}


def record_key_figures(p: Profile, locale: str | None = None) -> None:
    """Record the profile's key figures (KEY_FIGURES) as findings of status "recorded", one line each."""
    from .findings import recorded

    for figure_id, (field, statement, unit, decimals, source) in KEY_FIGURES.items():
        recorded(figure_id, getattr(p, field), statement=_(statement), unit=unit, source=source, locale=locale,
                 decimals=decimals)


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
    """Where the municipality ranks among the 98 (1 = highest) on population, density, unemployment, income: each
    measure's name, its unit, the municipality's value, the median of the 98, the rank and the number ranked."""
    munis = data.municipalities()
    pop = data.population(year=p.year, level="municipality").rename(columns={"area_code": "municipality_code"})
    unemp = data.unemployment()
    inc = data.income().rename(columns={"area_code": "municipality_code"})
    df = munis.merge(pop[["municipality_code", "population"]], on="municipality_code")
    df["density"] = df["population"] / df["area_km2"]
    df = df.merge(unemp[unemp["year"] == p.year][["municipality_code", "unemployed_persons"]], on="municipality_code")
    df["unemployed_per_100"] = 100 * df["unemployed_persons"] / df["population"]
    df = df.merge(inc[inc["year"] == p.year][["municipality_code", "earned_income"]], on="municipality_code")
    measures = {"population": (N_("Population"), "persons"), "density": (N_("Inhabitants per km²"), "persons/km²"),
                "unemployed_per_100": (N_("Unemployed per 100 inhabitants"), "per 100 inhabitants"),
                "earned_income": (N_("Earned income per person, DKK"), "DKK per person")}
    rows = []
    for column, (label, unit) in measures.items():  # unit: for the CSV's readers (the label says it in words)
        rank = df[column].rank(ascending=False, method="min")
        own = df["municipality_code"] == p.code
        rows.append({"measure": _(label), "unit": unit, "value": float(df.loc[own, column].iloc[0]),
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


# -- peers: the neighbours (sharing a boundary) and the municipalities of the same size class --------------------------

PEER_MEASURES = {"growth": N_("Population growth since 2008, %"), "per_100": N_("Unemployed per 100 inhabitants"),
                 "income": N_("Earned income per person, DKK")}


def measures_by_year() -> pd.DataFrame:
    """Every municipality's measures by year: population, population growth since 2008 (%), unemployed per 100
    inhabitants and earned income per person (the years all three tables have)."""
    pop = data.population(level="municipality").rename(columns={"area_code": "municipality_code"})
    base = pop[pop["year"] == pop["year"].min()].set_index("municipality_code")["population"]
    unemp = data.unemployment()
    inc = data.income().rename(columns={"area_code": "municipality_code", "earned_income": "income"})
    df = pop[["municipality_code", "year", "population"]].merge(
        unemp[["municipality_code", "year", "unemployed_persons"]], on=["municipality_code", "year"]).merge(
        inc[["municipality_code", "year", "income"]], on=["municipality_code", "year"])
    df["growth"] = 100 * (df["population"] / df["municipality_code"].map(base) - 1)
    df["per_100"] = 100 * df["unemployed_persons"] / df["population"]
    return df[["municipality_code", "year", "population", "growth", "per_100", "income"]]


@dataclass(frozen=True)
class Peers:
    neighbours: tuple[int, ...]  # sharing a boundary, by name
    size_class: tuple[int, ...]  # the other municipalities of its size class in the profile's year, by name
    names: dict[int, str]


def peers(p: Profile) -> Peers:
    """The municipality's neighbours (from the shipped boundaries) and the other municipalities of its size class."""
    from . import geo
    from .i18n import language, sort_key

    names = data.municipalities().set_index("municipality_code")["name_da"].to_dict()
    key = sort_key(language())
    neighbours = tuple(sorted(geo.shapes().neighbours.get(p.code, ()), key=lambda c: key(names[c])))
    pop = data.population(year=p.year, level="municipality")
    same = pop[pop["population"].map(data.size_class) == p.size_class]["area_code"]
    size_class = tuple(sorted((int(c) for c in same if int(c) != p.code), key=lambda c: key(names[c])))
    return Peers(neighbours, size_class, {int(c): str(n) for c, n in names.items()})


# The size class's quantiles the peers figure draws (group names, shown translated as the rows' area)
SIZE_CLASS_QUANTILES = {0.5: N_("size class median"), 0.25: N_("size class, lower quartile"),
                        0.75: N_("size class, upper quartile")}
MEDIAN, LOWER, UPPER = SIZE_CLASS_QUANTILES[0.5], SIZE_CLASS_QUANTILES[0.25], SIZE_CLASS_QUANTILES[0.75]


def peer_series(p: Profile, peers_: Peers) -> pd.DataFrame:
    """The measures by year of the municipality, each neighbour, and the median of its size class (itself
    included) with the quartiles, long: year, area, group (municipality, neighbour, size class), measure columns."""
    df = measures_by_year()
    rows = [df[df["municipality_code"] == p.code].assign(area=p.name, group="municipality")]
    for code in peers_.neighbours:
        rows.append(df[df["municipality_code"] == code].assign(area=peers_.names[code], group="neighbour"))
    members = df[df["municipality_code"].isin([p.code, *peers_.size_class])]
    for q, group in SIZE_CLASS_QUANTILES.items():
        part = members.groupby("year")[list(PEER_MEASURES)].quantile(q).reset_index()
        rows.append(part.assign(area=_(group), group=group))
    out = pd.concat(rows, ignore_index=True)
    return out[["year", "area", "group", *PEER_MEASURES]]


def peers_figure(p: Profile, series: pd.DataFrame, locale: str | None = None):
    """Small multiples: one panel per measure, the municipality in the house colour, its neighbours as thin lines,
    the size class's median dashed over its middle half (shaded); returns the figure."""
    import matplotlib.pyplot as plt

    from . import plots

    fig, axes = plt.subplots(1, len(PEER_MEASURES), figsize=(7.2, 3.2), sharex=True)
    for ax, (column, title) in zip(axes, PEER_MEASURES.items(), strict=True):
        band = series[series["group"].isin([LOWER, UPPER])].pivot(index="year", columns="group", values=column)
        ax.fill_between(band.index, band[LOWER], band[UPPER], color=plots.CONTEXT, alpha=0.3,
                        lw=0, label=_("middle half of the size class"))
        median = series[series["group"] == MEDIAN]
        ax.plot(median["year"], median[column], color="#4a5568", ls="--", lw=1.2, label=_(MEDIAN))
        for i, (_area, part) in enumerate(series[series["group"] == "neighbour"].groupby("area", sort=False)):
            ax.plot(part["year"], part[column], color=plots.PALETTE[1], lw=0.8, alpha=0.7,
                    label=_("neighbours") if i == 0 else None)
        own = series[series["group"] == "municipality"]
        ax.plot(own["year"], own[column], color=plots.HIGHLIGHT, lw=2.2, label=p.name)
        ax.set_title(textwrap.fill(_(title), 22), fontsize=11, loc="left")
        ax.set_xlabel("")
        ax.set_xticks(range(int(series["year"].min()), int(series["year"].max()) + 1, 6))
        ax.tick_params(labelsize=10)
        plots.number_axis(ax, "y", locale, 1 if column == "per_100" else 0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="lower center", ncol=4, fontsize=10, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.get_layout_engine().set(rect=(0, 0.09, 1, 0.91))
    return fig


def peers_table(p: Profile, peers_: Peers) -> pd.DataFrame:
    """The profile's year for the municipality, each neighbour and the size class (median): population growth since
    2008, unemployed per 100 inhabitants, earned income; numbers, not yet formatted."""
    df = measures_by_year()
    df = df[df["year"] == p.year].set_index("municipality_code")
    rows = [{"area": p.name, "group": "municipality", **df.loc[p.code, list(PEER_MEASURES)].to_dict()}]
    rows += [{"area": peers_.names[c], "group": "neighbour", **df.loc[c, list(PEER_MEASURES)].to_dict()}
             for c in peers_.neighbours]
    members = df.loc[[p.code, *peers_.size_class], list(PEER_MEASURES)]
    rows.append({"area": _(MEDIAN), "group": MEDIAN, **members.median().to_dict()})
    return pd.DataFrame(rows)


def map_values(p: Profile) -> pd.DataFrame:
    """Population growth since 2008 (%) in the profile's year for every municipality: what the profile's map shows."""
    df = measures_by_year()
    names = data.municipalities().set_index("municipality_code")["name_da"]
    out = df[df["year"] == p.year][["municipality_code", "growth"]].copy()
    out.insert(1, "name", out["municipality_code"].map(names))
    return out.reset_index(drop=True)
