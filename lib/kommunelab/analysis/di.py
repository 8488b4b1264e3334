"""DI's 2013 estimate of municipal savings from exposing more tasks to competition, rebuilt as a calculator.

DI's March 2013 note is not available. Its neighbouring editions (FACTS.md, DI methods) describe the model:
for each main account (hovedkonto) the target competition rate (IKU) is the average of the ten municipalities
with the highest rate; every municipality is lifted to that target; a gross savings rate is applied to the extra
spending so exposed. Nationally: savings = spending that can be exposed x (target - IKU) x savings rate.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .. import data
from ..data.published import claims_in, spec
from ..data.schema import load_table, read_validated
from ..data.tables import TABLES
from ..errors import DataError
from ..i18n import _
from ..i18n import date as written_date
from ..paths import project_root
from ..provenance import record_read, sha256_file
from ..targets import interval

# A user-supplied file with municipality-level data (e.g. from noegletal.dk), one row per municipality and main
# account: the spending on tasks that private suppliers may legally perform, and the share exposed (IKU).
MUNICIPAL_INPUT = TABLES["di_municipal_input"]


def published_inputs() -> dict[str, float]:
    return data.published_table("di_published_inputs").set_index("name")["value"].to_dict()


def published_ranges() -> dict[str, tuple[float, float]]:
    """Each of DI's published inputs as the interval its rounding allows: its own rule, or, for a cell that is a
    claim's value (``=finding:<id>``), the claim's target interval."""
    table = data.published_table("di_published_inputs")
    claims = {row: finding for (row, column), finding in claims_in("di_published_inputs").items() if column == "value"}
    out = {}
    for i, row in table.iterrows():
        if i in claims:
            claim = spec(claims[i])
            out[row["name"]] = (claim["target_low"], claim["target_high"])
        elif isinstance(row["rule"], str):
            out[row["name"]] = interval(row["rule"], row["value"])
    return out


RATE_INPUTS = ("savings_at_best_practice", "iku_national", "iku_best_practice", "municipal_exposed_2016",
               "municipal_iku_2016_quoted")


def implied_rate(savings_at_best_practice: float, iku_national: float, iku_best_practice: float,
                 municipal_exposed_2016: float, municipal_iku_2016_quoted: float) -> float:
    """The gross savings rate DI's 2012 figures imply on the base KFST's 2016 figures give (a fraction)."""
    k = implied_exposable_times_rate(savings_at_best_practice, iku_national, iku_best_practice)
    return implied_savings_rate(k, exposable_from_exposed(municipal_exposed_2016, municipal_iku_2016_quoted))


def implied_rate_interval(ranges: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """The implied rate over every combination of its inputs' rounding ends (it is monotone in each input, so the
    corners hold its least and greatest values): the precision the published figures allow."""
    rates = [implied_rate(**dict(zip(RATE_INPUTS, corner, strict=True)))
             for corner in itertools.product(*(ranges[name] for name in RATE_INPUTS))]
    return min(rates), max(rates)


def implied_exposable_times_rate(savings: float, iku_from: float, iku_to: float) -> float:
    """Exposable spending x savings rate implied by a published total (savings / (target - IKU)): DI's own
    arithmetic turned around, a restatement, not a result."""
    return savings / ((iku_to - iku_from) / 100)


def exposable_from_exposed(exposed: float, iku: float) -> float:
    """The spending that can be exposed to competition, from the amount exposed and the IKU (percent)."""
    return exposed / (iku / 100)


def implied_savings_rate(exposable_times_rate: float, exposable: float) -> float:
    """The gross savings rate a published total implies, given an independently published spending base."""
    return exposable_times_rate / exposable


def national_savings(exposable_spending: float, iku_from: float, iku_to: float, savings_rate: float) -> float:
    return exposable_spending * max(0.0, iku_to - iku_from) / 100 * savings_rate


def sensitivity(exposable_spending: float, iku_from: float, targets, rates) -> pd.DataFrame:
    """Annual savings (DKK) over a grid of target IKU levels and savings rates."""
    rows = [{"target_iku": t, "savings_rate": r, "savings_dkk": national_savings(exposable_spending, iku_from, t, r)}
            for t in targets for r in rates]
    return pd.DataFrame(rows)


def population_share_benchmark(total: float, codes: list[int], year: int) -> pd.DataFrame:
    """Each municipality's population share of ``total``: what an equal-per-inhabitant split would give."""
    pop = data.population(year=year, level="municipality").set_index("area_code")["population"]
    munis = data.municipalities().set_index("municipality_code")["name_da"]
    share = pop / pop.sum()
    return pd.DataFrame({"municipality_code": codes, "name": [munis[c] for c in codes],
                         "population": [int(pop[c]) for c in codes], "population_share_pct": [100 * share[c] for c in codes],
                         "benchmark_dkk": [total * share[c] for c in codes]})


INPUT_HINT = "give a CSV with columns municipality_code, main_account, spending_dkk, iku_pct (README, DI calculator)"
SOURCE_SUFFIX = ".source.toml"
PLACEHOLDER = "FILL IN"


@dataclass(frozen=True, kw_only=True)
class InputSource:
    """What a user declares about their municipal file, in ``<file stem>.source.toml`` beside it: where the figures
    come from, when they were retrieved, and the year they describe. The project does not check it; the report
    shows it, and the file's findings are "user data", never public data by assertion."""

    path: Path
    source: str
    retrieved: date
    year: int | None = None

    def summary(self) -> str:
        """What the user declares, in the run's language (the source itself as the user wrote it)."""
        text = _("{source}, retrieved {date}").format(source=self.source,
                                                      date=written_date(self.retrieved.isoformat()))
        if self.year:
            text += ", " + _("figures for {year}").format(year=self.year)
        return text + " " + _("(as the user declares)")


def source_template(data_file: Path) -> str:
    return (f"# Where the figures in {data_file.name} come from (kommunelab shows this in the report's provenance)\n"
            f'source = "{PLACEHOLDER}: who published the figures, and the table or address"\n'
            "retrieved = 2026-01-31  # the date you downloaded them\n"
            "year = 2012  # the year the figures describe\n")


def read_input_source(data_file: str | Path) -> InputSource:
    """The descriptor beside a user's municipal file, validated: a source and a retrieval date, no placeholder."""
    data_file = _input_path(data_file)
    path = data_file.with_name(data_file.stem + SOURCE_SUFFIX)
    hint = f"write {path.name} beside it, for example:\n{source_template(data_file)}"
    if not path.is_file():
        raise DataError(str(data_file), f"no {path.name} beside it saying where its figures come from", hint=hint)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(str(path), f"not valid TOML: {exc}", hint=hint) from None
    source, retrieved, year = raw.get("source"), raw.get("retrieved"), raw.get("year")
    if not isinstance(source, str) or not source.strip() or PLACEHOLDER in source:
        raise DataError(str(path), "'source' must say who published the figures (text, no FILL IN)", hint=hint)
    if isinstance(retrieved, str):
        try:
            retrieved = date.fromisoformat(retrieved)
        except ValueError:
            retrieved = None
    if not isinstance(retrieved, date):
        raise DataError(str(path), "'retrieved' must be a date (YYYY-MM-DD)", hint=hint)
    if retrieved > date.today():
        raise DataError(str(path), f"'retrieved' is {retrieved.isoformat()}, a date in the future", hint=hint)
    if year is not None and (not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= date.today().year):
        raise DataError(str(path), f"'year' must be the year the figures describe, 2000 to now; got {year!r}", hint=hint)
    return InputSource(path=path, source=source.strip(), retrieved=retrieved, year=year)


def _input_path(path: str | Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else project_root() / p


def load_municipal_input(path: str | Path) -> tuple[pd.DataFrame, InputSource]:
    """A user's municipal file and what they declare about it; both are recorded as read (the provenance block shows
    the declared source and retrieval date)."""
    declared = read_input_source(path)
    frame = load_table(_input_path(path), MUNICIPAL_INPUT, origin="user", hint=INPUT_HINT,
                       source=declared.summary(), retrieved=declared.retrieved.isoformat())
    record_read(str(declared.path), sha256_file(declared.path), "user", "the user's declaration of the file's source")
    return frame, declared


def check_municipal_input(value: str) -> str:
    """The manifest's validator for ``municipal_input``: the file and its source descriptor are read and validated
    before a kernel starts."""
    if value:
        read_validated(_input_path(value), MUNICIPAL_INPUT, hint=INPUT_HINT)
        read_input_source(value)
    return value


def account_target(part: pd.DataFrame, top_n: int = 10) -> float:
    """DI's target for one main account: the mean IKU of its ``top_n`` highest municipalities."""
    return float(part["iku_pct"].nlargest(min(top_n, len(part))).mean())


def municipal_potentials(frame: pd.DataFrame, savings_rate: float, top_n: int = 10) -> pd.DataFrame:
    """DI's model per municipality: lift each main account to the mean IKU of its ``top_n`` highest municipalities.

    Returns per municipality: exposable spending, current IKU, potential savings (DKK per year), and savings
    already realised relative to the national average IKU of each main account (DI's method for Gribskov's
    10.1 million is not published; this is the project's reading of it, said so in the report).
    """
    out = []
    for account, part in frame.groupby("main_account"):
        target = account_target(part, top_n)
        average = np.average(part["iku_pct"], weights=part["spending_dkk"])
        lift = np.clip(target - part["iku_pct"], 0, None) / 100
        above = np.clip(part["iku_pct"] - average, 0, None) / 100
        out.append(pd.DataFrame({"municipality_code": part["municipality_code"], "main_account": account,
                                 "spending_dkk": part["spending_dkk"],
                                 "exposed_dkk": part["spending_dkk"] * part["iku_pct"] / 100,
                                 "potential_dkk": part["spending_dkk"] * lift * savings_rate,
                                 "realised_dkk": part["spending_dkk"] * above * savings_rate}))
    detail = pd.concat(out, ignore_index=True)
    per = detail.groupby("municipality_code")[["spending_dkk", "exposed_dkk", "potential_dkk", "realised_dkk"]].sum()
    per["iku_pct"] = 100 * per["exposed_dkk"] / per["spending_dkk"]
    return per.reset_index()


def lifted_iku(frame: pd.DataFrame, top_n: int = 10) -> float:
    """DI's target level (percent): the national IKU once every municipality exposes, in each main account, at least
    as much as the mean of that account's ``top_n`` highest municipalities. No savings rate enters it."""
    lifted = 0.0
    for _account, part in frame.groupby("main_account"):
        target = account_target(part, top_n)
        lifted += float((part["spending_dkk"] * np.maximum(part["iku_pct"], target)).sum())
    return lifted / float(frame["spending_dkk"].sum())


def potential_shares(frame: pd.DataFrame, top_n: int = 10) -> pd.Series:
    """Each municipality's share (percent) of the national savings potential by DI's model: the savings rate is the
    same for all, so it cancels and no rate enters it."""
    per = municipal_potentials(frame, 1.0, top_n).set_index("municipality_code")["potential_dkk"]
    total = per.sum()
    if total <= 0:
        raise DataError("municipal_input", "no municipality is below its main account's target, so there is no "
                        "potential to share out")
    return 100 * per / total


def iku_figure_data(iku: pd.DataFrame, iku_2012: float, target_iku: float) -> pd.DataFrame:
    """What :func:`iku_figure` draws, as rows: each published national IKU, DI's 2012 figure and the target."""
    rows = [{"series": _("national IKU (published)"), "year": int(y), "IKU (%)": v}
            for y, v in zip(iku["year"], iku["iku_all_municipalities_pct"], strict=True)]
    rows += [{"series": _("DI kommunefakta, 2012"), "year": 2012, "IKU (%)": iku_2012},
             {"series": _("target in this calculation"), "year": None, "IKU (%)": target_iku}]
    return pd.DataFrame(rows).astype({"year": "Int64"})


def iku_figure(iku: pd.DataFrame, iku_2012: float, target_iku: float, locale: str | None = None):
    """The national IKU as published, DI's 2012 figure, and the target of the calculation; returns (figure, axes)."""
    import matplotlib.pyplot as plt

    from .. import plots

    fig, ax = plt.subplots(figsize=(7.2, 2.6))
    ax.plot(iku["year"], iku["iku_all_municipalities_pct"], marker="o", color=plots.HIGHLIGHT,
            label=_("national IKU (published)"))
    ax.scatter([2012], [iku_2012], color=plots.PALETTE[1], zorder=3, label=_("DI kommunefakta, 2012"))
    ax.axhline(target_iku, color=plots.CONTEXT, ls="--", lw=1, label=_("target in this calculation"))
    ax.set(xlabel="", ylabel=_("IKU, percent"), title=_("Share of municipal tasks exposed to competition"))
    ax.legend(loc="upper left", fontsize=9)
    plots.number_axis(ax, "y", locale)
    return fig, ax
