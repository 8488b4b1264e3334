"""Synthetic stand-ins for the four surveys whose microdata are not public, with the truth they were drawn from.

Each generator builds a whole stand-in *population* (public workplaces, Norwegian units, the 838 invited department
heads and all their collaborations, every municipal collaboration), draws the *sample* a survey would see (a
stratified sample with unequal selection, unit and item non-response), writes the sample as the stand-in table,
and records in truth.csv the true value, in the population, of every quantity a finding estimates. A pipeline
check passes only when the estimate recovers that truth, so an estimator that drops the weights or counts a blank
answer as "no" fails.

Real: the frames (the 98 Danish municipalities with their regions and populations, the Norwegian municipalities of
2017) and the published sample sizes. The published shares, means and orders are read from data/published/ and
used as the population's targets (the midpoint of the interval the published wording allows). Invented, and named
as such below: population sizes, the design (strata, selection rates), every effect the reports do not publish,
and every respondent-level value. Deterministic (fixed seed); ``kommunelab synthetic`` regenerates identical files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import data
from .data.schema import Column, Schema, read_table
from .errors import FindingError
from .survey import DESCRIPTOR, SCHEMAS, descriptor, last_package, synthetic_dir

SEED = 20151001
TRUTH_FILE = "truth.csv"
ITEM_NONRESPONSE = 0.03  # invented: share of answers left blank, at random, in every answer column


def _rng(name: str) -> np.random.Generator:
    # One independent stream per table, so changing one generator leaves the others' files unchanged.
    return np.random.default_rng([SEED, sum(map(ord, name))])


def target(finding_id: str) -> float:
    """The value a published claim stands for: the midpoint of the interval its wording allows (findings.csv)."""
    from .findings import spec

    row = spec(finding_id)
    low, high = row["target_low"], row["target_high"]
    if low is None or high is None:
        raise FindingError(f"finding {finding_id!r} has no bounded target interval to generate from")
    return (low + high) / 2


def _blank(rng: np.random.Generator, values: np.ndarray, share: float = ITEM_NONRESPONSE) -> pd.array:
    """0/1 answers as a nullable column with ``share`` of them left blank at random (item non-response)."""
    col = pd.array(values.astype(int), dtype="Int64")
    col[rng.random(len(values)) < share] = pd.NA
    return col


def _blank_text(rng: np.random.Generator, values: np.ndarray, share: float = ITEM_NONRESPONSE) -> pd.Series:
    out = pd.Series(values, dtype=object)
    out[rng.random(len(values)) < share] = None
    return out


def _rank_of(counts: pd.Series, label: str, ascending: bool = False) -> float:
    return float(counts.rank(ascending=ascending, method="min")[label])


def _stratified_sample(rng: np.random.Generator, strata: np.ndarray, rates: dict[str, float], n: int) -> tuple:
    """Draw ``n`` units, stratum h in proportion to N_h x rates[h]; returns (indices, weights N_h / n_h)."""
    labels, sizes = np.unique(strata, return_counts=True)
    want = np.array([sizes[i] * rates[label] for i, label in enumerate(labels)])
    alloc = np.floor(want / want.sum() * n).astype(int)
    for i in np.argsort(-(want / want.sum() * n - alloc))[: n - alloc.sum()]:
        alloc[i] += 1
    picked, weights = [], []
    for label, size, k in zip(labels, sizes, alloc, strict=True):
        members = np.flatnonzero(strata == label)
        chosen = np.sort(rng.choice(members, size=k, replace=False))
        picked.append(chosen)
        weights.append(np.full(k, size / k))
    order = np.argsort(np.concatenate(picked))
    return np.concatenate(picked)[order], np.concatenate(weights)[order]


# ---- COI innovation barometer 2015-16 (public workplaces and their latest innovation) ---------------------------
COI_POPULATION = 12_000  # invented number of public workplaces
COI_SECTORS = {"municipal": 0.70, "regional": 0.12, "state": 0.18}  # invented
COI_LARGE = 0.30  # invented share of large workplaces
COI_LARGE_RATE = 3.0  # invented design: a large workplace is three times as likely to be sampled
COI_LARGE_LIFT = 0.15  # invented: large workplaces innovate 15 points more often than small ones
COI_DEMOCRATIC_BASE = 0.08  # invented: democratic value without citizens or associations


def coi_workplaces(truth: list[dict]) -> pd.DataFrame:
    rng = _rng("coi")
    n_pop = COI_POPULATION
    sector = rng.choice(list(COI_SECTORS), size=n_pop, p=list(COI_SECTORS.values()))
    large = rng.random(n_pop) < COI_LARGE
    p = target("coi.workplaces_innovated") / 100
    innovated = rng.random(n_pop) < np.where(large, p + COI_LARGE_LIFT * (1 - COI_LARGE), p - COI_LARGE_LIFT * COI_LARGE)
    c, v, e = (target(f"coi.{k}") / 100 for k in ("citizens", "volunteers", "citizens_or_volunteers"))
    both = c + v - e  # citizens and associations in the same innovation
    citizens = rng.random(n_pop) < c
    volunteers = rng.random(n_pop) < np.where(citizens, both / c, (v - both) / (1 - c))
    active = citizens | volunteers
    ratio = target("coi.democratic_value_ratio")
    democratic = rng.random(n_pop) < np.where(active, ratio * COI_DEMOCRATIC_BASE, COI_DEMOCRATIC_BASE)
    outside = rng.random(n_pop) < target("kl.innovations_with_outside_actors") / 100
    same_muni = outside & (rng.random(n_pop) < target("kl.innovations_same_municipality") / 100 / outside.mean())
    external = outside & (rng.random(n_pop) < target("kl.innovations_external_party") / 100 / outside.mean())
    municipality = np.where(sector == "municipal", rng.choice(_dk_codes(), size=n_pop), 0)
    stratum = np.array([f"{s}-{'large' if lg else 'small'}" for s, lg in zip(sector, large, strict=True)])

    for scope in ("all", *COI_SECTORS):
        part = np.ones(n_pop, bool) if scope == "all" else sector == scope
        inn = part & innovated
        add = _adder(truth, scope)
        add("coi.workplaces_innovated", 100 * innovated[part].mean(), "share of workplaces that innovated")
        add("coi.citizens", 100 * citizens[inn].mean(), "share of innovations with citizens")
        add("coi.volunteers", 100 * volunteers[inn].mean(), "share of innovations with associations")
        add("coi.citizens_or_volunteers", 100 * active[inn].mean(), "share with citizens or associations")
        add("coi.democratic_value_ratio", democratic[inn & active].mean() / democratic[inn & ~active].mean(),
            "democratic value with / without citizens or associations")
    municipal_inn = innovated & (sector == "municipal")
    add = _adder(truth, "all")
    add("kl.innovations_with_outside_actors", 100 * outside[municipal_inn].mean(), "municipal innovations, outside actors")
    add("kl.innovations_same_municipality", 100 * same_muni[municipal_inn].mean(), "municipal innovations, same municipality")
    add("kl.innovations_external_party", 100 * external[municipal_inn].mean(), "municipal innovations, external party")

    n = data.survey_base("COI innovation barometer 2015-16", "responding public workplaces")
    rates = {s: COI_LARGE_RATE if s.endswith("large") else 1.0 for s in np.unique(stratum)}
    idx, weight = _stratified_sample(rng, stratum, rates, n)
    frame = pd.DataFrame({"workplace_id": np.arange(1, n + 1), "sector": sector[idx], "stratum": stratum[idx],
                          "municipality_code": municipality[idx], "weight": weight.round(4),
                          "innovated": innovated[idx].astype(int)})
    asked = innovated[idx]  # the follow-up questions are put to innovating workplaces only
    for name, values in (("citizens_role", citizens), ("volunteers_role", volunteers),
                         ("democratic_value", democratic), ("outside_actor", outside),
                         ("same_municipality", same_muni), ("external_party", external)):
        col = _blank(rng, values[idx])
        col[~asked] = pd.NA
        frame[name] = col
    return frame


# ---- KS innovation barometer 2018 (unit managers) ----------------------------------------------------------------
KS_POPULATION = 8_000  # invented number of units in the two sectors
KS_EDUCATION_SAMPLED = 0.70  # invented design: education & childhood is over-represented among respondents
KS_DRIVERS = {"societal challenges": 0.31, "user needs": 0.24, "political goals": 0.10, "employee ideas": 0.20,
              "new technology": 0.15}  # invented; only "societal challenges first" is published (KS-12)
KS_FORM_COLUMNS = {"better quality": "value_quality", "employee satisfaction": "value_employee_satisfaction",
                   "efficiency": "value_efficiency", "citizen influence": "value_citizen_influence"}
KS_SECTORS = ("education & childhood", "health & care")


def ks_units(truth: list[dict]) -> pd.DataFrame:
    from .targets import interval

    rng = _rng("ks")
    rates = data.published_table("ks_sector_rates").set_index("sector")["share_pct"]
    education, health = (float(np.mean(interval("tenths", rates[s]))) for s in KS_SECTORS)
    headline = target("ks.units_innovated")
    share_education = (headline - health) / (education - health)  # the sector mix the published rates imply
    n_pop = KS_POPULATION
    sector = np.where(rng.random(n_pop) < share_education, KS_SECTORS[0], KS_SECTORS[1])
    innovated = rng.random(n_pop) < np.where(sector == KS_SECTORS[0], education, health) / 100
    forms = data.published_table("ks_value_forms").set_index("value_form")
    answers = {KS_FORM_COLUMNS[f]: rng.random(n_pop) < float(np.mean(interval(r.rule, r.share_pct))) / 100
               for f, r in forms.iterrows()}
    driver = rng.choice(list(KS_DRIVERS), size=n_pop, p=list(KS_DRIVERS.values()))

    add = _adder(truth, "all")
    add("ks.units_innovated", 100 * innovated.mean(), "share of units that innovated")
    add("ks.sector_gap", 100 * (innovated[sector == KS_SECTORS[0]].mean() - innovated[sector == KS_SECTORS[1]].mean()),
        "education minus health and care, points")
    add("ks.societal_challenges_top_driver", _rank_of(pd.Series(driver).value_counts(), "societal challenges"),
        "rank of societal challenges among drivers")
    for scope in ("all", *KS_SECTORS):
        inn = innovated & (True if scope == "all" else sector == scope)
        shares = pd.Series({col: values[inn].mean() for col, values in answers.items()})
        add = _adder(truth, scope)
        add("ks.quality_share", 100 * shares["value_quality"], "share of newest innovations with better quality")
        add("ks.quality_top_result", _rank_of(shares, "value_quality"), "rank of quality among forms of value")

    n = data.survey_base("KS innovation barometer 2018", "responding unit managers")
    idx, weight = _stratified_sample(rng, sector, {KS_SECTORS[0]: KS_EDUCATION_SAMPLED / share_education,
                                                   KS_SECTORS[1]: (1 - KS_EDUCATION_SAMPLED) / (1 - share_education)}, n)
    codes = data.no_municipalities(2017)
    pick = rng.integers(0, len(codes), n)
    frame = pd.DataFrame({"unit_id": np.arange(1, n + 1), "kommunenummer": codes["kommunenummer"].to_numpy()[pick],
                          "fylkesnummer": codes["fylkesnummer"].to_numpy()[pick], "sector": sector[idx],
                          "weight": weight.round(4), "innovated": innovated[idx].astype(int)})
    for col, values in answers.items():
        answered = _blank(rng, values[idx])
        answered[~innovated[idx]] = pd.NA  # asked of innovating units only
        frame[col] = answered
    frame["main_driver"] = _blank_text(rng, driver[idx])
    return frame


# ---- KORA 2015 (department heads) and their concrete collaborations ----------------------------------------------
KORA_AREAS = {"Health and prevention": 2.2, "Social services": 1.6, "Elderly care": 1.2, "Integration": 1.0,
              "Children and youth": 1.0, "Schools": 0.9, "Employment": 0.9, "Culture and leisure": 1.1,
              "Technical and environment": 0.4}  # invented relative numbers; order as published (KO-11)
KORA_OTHER_VALUES = {"democratic value": 0.32, "better service quality": 0.27,
                     "trust between citizens and municipality": 0.21, "stronger civil society": 0.20}  # invented; order KO-09
KORA_PRESSURE_RATIO = 1.8  # invented: "a little more" often under high spending pressure (KO-08)
KORA_INITIATORS = {"municipality": 0.62, "association": 0.18, "citizens": 0.12, "other": 0.08}  # invented; KO-14 order


def _dk_codes() -> np.ndarray:
    return data.municipalities()["municipality_code"].to_numpy()


def kora_heads(truth: list[dict]) -> pd.DataFrame:
    rng = _rng("kora")
    munis = data.municipalities()
    pop = data.population(year=2015, level="municipality").set_index("area_code")["population"]
    rows = [(m.municipality_code, m.region_code, area) for m in munis.itertuples() for area in KORA_AREAS]
    invited = data.survey_base("KORA 2015 survey", "invited department heads")  # KO-01
    keep = np.sort(rng.choice(len(rows), size=invited, replace=False))
    heads = pd.DataFrame([rows[i] for i in keep], columns=["municipality_code", "region_code", "policy_area"])
    heads.insert(0, "head_id", np.arange(1, len(heads) + 1))
    heads["size_class"] = heads["municipality_code"].map(pop).map(data.size_class)
    # Invented per municipality: the mayor's party and spending pressure are not in the public mirror.
    party = dict(zip(munis["municipality_code"], rng.choice(["red", "blue"], size=len(munis), p=[0.45, 0.55]),
                     strict=True))
    pressure = dict(zip(munis["municipality_code"], rng.choice(["high", "other"], size=len(munis), p=[0.3, 0.7]),
                        strict=True))
    heads["mayor_party"] = heads["municipality_code"].map(party)
    heads["spending_pressure"] = heads["municipality_code"].map(pressure)
    # Every invited head has an answer; only the respondents' reach the table (non-response at random).
    focus = rng.random(invited) < target("kora.increased_focus") / 100
    high = (heads["spending_pressure"] == "high").to_numpy()
    cost = target("kora.cost_effectiveness_value") / 100
    p_other = cost / (high.mean() * KORA_PRESSURE_RATIO + (1 - high.mean()))
    is_cost = rng.random(invited) < np.where(high, KORA_PRESSURE_RATIO * p_other, p_other)
    others = np.array(list(KORA_OTHER_VALUES))
    weights = np.array(list(KORA_OTHER_VALUES.values()))
    value = np.where(is_cost, "cost-effectiveness", rng.choice(others, size=invited, p=weights / weights.sum()))
    responded = np.zeros(invited, dtype=bool)
    responded[rng.choice(invited, size=round(target("kora.response_rate") / 100 * invited), replace=False)] = True

    add = _adder(truth, "all")
    add("kora.invited", float(invited), "department heads invited")
    add("kora.response_rate", 100 * responded.mean(), "share of invited heads who answered")
    add("kora.response_even", 0.0, "response does not depend on region in the generator", basis="model")
    add("kora.increased_focus", 100 * focus.mean(), "share of all invited heads' areas with increased focus")
    add("kora.no_region_dependence", 0.0, "increased focus does not depend on region in the generator", basis="model")
    add("kora.no_party_dependence", 0.0, "increased focus does not depend on the mayor's party", basis="model")
    add("kora.cost_effectiveness_value", 100 * is_cost.mean(), "share naming cost-effectiveness")
    add("kora.cost_effectiveness_pressure", is_cost[high].mean() / is_cost[~high].mean(),
        "cost-effectiveness, high vs other spending pressure")
    add("kora.democratic_value_top", _rank_of(pd.Series(value).value_counts(), "democratic value"),
        "rank of democratic value among overall values")
    heads["responded"] = responded.astype(int)
    heads["increased_focus"] = _blank(rng, focus)
    heads["overall_value"] = _blank_text(rng, value)
    heads.loc[~responded, ["increased_focus", "overall_value"]] = None
    heads["increased_focus"] = heads["increased_focus"].astype("Int64")
    return heads


def kora_collaborations(heads: pd.DataFrame, truth: list[dict]) -> pd.DataFrame:
    rng = _rng("kora-collab")
    several = target("kora.several_partners") / 100
    cross = target("kora.cross_area") / 100
    rows = []
    for h in heads.itertuples():  # every head's collaborations: the population
        for _ in range(rng.poisson(1.3 * KORA_AREAS[h.policy_area])):
            rows.append({
                "head_id": h.head_id, "policy_area": h.policy_area, "cross_area": int(rng.random() < cross),
                "civil_partners": int(2 + rng.poisson(1.0)) if rng.random() < several else 1,
                "long_term": int(rng.random() < (0.7 if h.policy_area == "Health and prevention" else 0.5)),
                "initiator": rng.choice(list(KORA_INITIATORS), p=list(KORA_INITIATORS.values())),
            })
    population = pd.DataFrame(rows)
    add = _adder(truth, "all")
    add("kora.cross_area", 100 * population["cross_area"].mean(), "share of all collaborations across areas")
    add("kora.several_partners", 100 * (population["civil_partners"] > 1).mean(), "share with several civil partners")
    counts = population["policy_area"].value_counts()
    add("kora.health_most_collaborations", _rank_of(counts, "Health and prevention"), "rank of health by number")
    add("kora.technical_fewest_collaborations", _rank_of(counts, "Technical and environment", ascending=True),
        "rank of technical and environment from the bottom")
    add("kora.municipality_initiates", _rank_of(population["initiator"].value_counts(), "municipality"),
        "rank of the municipality among initiators")
    respondents = set(heads.loc[heads["responded"] == 1, "head_id"])
    sample = population[population["head_id"].isin(respondents)].reset_index(drop=True)
    sample.insert(0, "collaboration_id", np.arange(1, len(sample) + 1))
    for col in ("cross_area", "long_term"):
        sample[col] = _blank(rng, sample[col].to_numpy())
    sample["initiator"] = _blank_text(rng, sample["initiator"].to_numpy())
    return sample


# ---- KL mapping of municipal collaborations 2017 (every municipality answered: a census) -------------------------
KL_OTHER_PURPOSES = {"operations and service delivery": 0.27, "knowledge sharing and networks": 0.17,
                     "exercise of authority": 0.13, "reducing operating costs": 0.11, "other": 0.13}  # invented
KL_PARTNERS = {"other municipalities": 0.55, "regions": 0.15, "private firms": 0.18, "other public bodies": 0.12}


def kl_collaborations(truth: list[dict]) -> pd.DataFrame:
    rng = _rng("kl")
    munis = data.municipalities()
    pop = data.population(year=2017, level="municipality").set_index("area_code")["population"]
    size = munis["municipality_code"].map(pop).to_numpy()
    mean = target("kl.collaborations_per_municipality")
    # Invented: larger municipalities take part in somewhat more collaborations.
    expected = (size / size.mean()) ** 0.2
    counts = rng.poisson(expected * mean / expected.mean())
    codes = np.repeat(munis["municipality_code"].to_numpy(), counts)
    n = len(codes)
    innovation = target("kl.innovation_purpose_share") / 100
    others = np.array(list(KL_OTHER_PURPOSES.values()))
    purposes = {"innovation and development": innovation,
                **dict(zip(KL_OTHER_PURPOSES, others / others.sum() * (1 - innovation), strict=True))}
    purpose = rng.choice(list(purposes), size=n, p=list(purposes.values()))
    shares = pd.Series(purpose).value_counts()
    add = _adder(truth, "all")
    add("kl.collaborations_per_municipality", float(counts.mean()), "collaborations per municipality")
    add("kl.innovation_purpose_share", 100 * shares["innovation and development"] / n, "innovation as main purpose")
    add("kl.innovation_purpose_rank", _rank_of(shares, "innovation and development"), "rank of innovation")
    add("kl.cost_reduction_rarer_than_innovation",
        float(shares["reducing operating costs"] < shares["innovation and development"]), "cost reduction rarer")
    return pd.DataFrame({
        "collaboration_id": np.arange(1, n + 1), "municipality_code": codes,
        "main_purpose": _blank_text(rng, purpose),
        "partner_type": rng.choice(list(KL_PARTNERS), size=n, p=list(KL_PARTNERS.values())),
        "established": rng.choice(np.arange(1995, 2018), size=n, p=_established_weights()),
        "company_form": (rng.random(n) < 0.08).astype(int),  # invented; KL-07 says under 10 %
    })


def _established_weights() -> np.ndarray:
    years = np.arange(1995, 2018)
    w = np.where(years < 2007, 1.0, 2.0 + 0.35 * np.clip(years - 2011, 0, None))  # KL-05, KL-06 (shape invented)
    return w / w.sum()


# ---- truth, writing and reading --------------------------------------------------------------------------------
TRUTH_SCHEMA = Schema("stand_in_truth", (
    Column("finding_id", "str"), Column("scope", "str"), Column("truth", "float"),
    Column("basis", "str", allowed=("population", "model")), Column("what", "str"),
), key=("finding_id", "scope"))


def _adder(truth: list[dict], scope: str):
    def add(finding_id: str, value: float, what: str, basis: str = "population") -> None:
        truth.append({"finding_id": finding_id, "scope": scope, "truth": round(float(value), 10), "basis": basis,
                      "what": what})
    return add


def generate() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    truth: list[dict] = []
    heads = kora_heads(truth)
    tables = {"coi_workplaces": coi_workplaces(truth), "ks_units": ks_units(truth), "kora_heads": heads,
              "kora_collaborations": kora_collaborations(heads, truth), "kl_collaborations": kl_collaborations(truth)}
    return tables, pd.DataFrame(truth).sort_values(["finding_id", "scope"], ignore_index=True)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)


def write_all(folder: Path | None = None) -> list[Path]:
    """Regenerate every stand-in, truth.csv and datapackage.json into ``folder`` (default data/synthetic/)."""
    folder = folder or synthetic_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tables, truth = generate()
    written = []
    for name, frame in tables.items():
        _write(folder / f"{name}.csv", frame.to_csv(index=False, lineterminator="\n"))
        written.append(folder / f"{name}.csv")
    _write(folder / TRUTH_FILE, truth.to_csv(index=False, lineterminator="\n"))
    meta = descriptor({name: f"{name}.csv" for name in SCHEMAS}, name="kommunelab-synthetic-stand-ins",
                      title="kommunelab's synthetic stand-ins for the COI, KS, KORA and KL survey microdata "
                            "(not survey data)",
                      sources=[{"title": "generated by kommunelab.synthetic", "path": "lib/kommunelab/synthetic.py"}],
                      licenses=[{"name": "MIT", "title": "the project's licence"}], synthetic=True)
    _write(folder / DESCRIPTOR, json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    written += [folder / TRUTH_FILE, folder / DESCRIPTOR]
    return written


def truth_table(folder: Path | None = None) -> pd.DataFrame:
    """The truth recorded beside the stand-ins: from the folder last read (a full copy keeps it), else data/synthetic/."""
    package = last_package()
    candidates = [package.folder] if package is not None else []
    for candidate in [*candidates, folder or synthetic_dir()]:
        if (candidate / TRUTH_FILE).is_file():
            return read_table(candidate / TRUTH_FILE, TRUTH_SCHEMA)
    raise FindingError(f"no {TRUTH_FILE} beside the stand-ins in {synthetic_dir()}; run `make synthetic`")


def truth_value(finding_id: str, scope: str = "all") -> float:
    table = truth_table()
    hit = table[(table["finding_id"] == finding_id) & (table["scope"] == scope)]
    if hit.empty:
        raise FindingError(f"the stand-in records no truth for finding {finding_id!r} (scope {scope!r}); add it to its "
                           "generator in kommunelab.synthetic and run `make synthetic`")
    return float(hit["truth"].iloc[0])
