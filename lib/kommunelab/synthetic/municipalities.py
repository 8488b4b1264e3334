"""Stand-ins for the two municipal surveys: KORA's 2015 survey of department heads and KL's 2017 mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import data
from .design import adder, blank, blank_text, rank_of, stream, target

# ---- KORA 2015 (department heads) and their concrete collaborations ----------------------------------------------
KORA_AREAS = {"Health and prevention": 2.2, "Social services": 1.6, "Elderly care": 1.2, "Integration": 1.0,
              "Children and youth": 1.0, "Schools": 0.9, "Employment": 0.9, "Culture and leisure": 1.1,
              "Technical and environment": 0.4}  # invented relative numbers; order as published (KO-11)
KORA_OTHER_VALUES = {"democratic value": 0.32, "better service quality": 0.27,
                     "trust between citizens and municipality": 0.21, "stronger civil society": 0.20}  # invented; order KO-09
KORA_PRESSURE_RATIO = 1.8  # invented: "a little more" often under high spending pressure (KO-08)
KORA_INITIATORS = {"municipality": 0.62, "association": 0.18, "citizens": 0.12, "other": 0.08}  # invented; KO-14 order


def kora_heads(truth: list[dict]) -> pd.DataFrame:
    rng = stream("kora")
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

    add = adder(truth, "all")
    add("kora.invited", float(invited), "department heads invited", basis="census")
    add("kora.response_rate", 100 * responded.mean(), "share of invited heads who answered", basis="census")
    add("kora.response_even", 0.0, "response depends on no breakdown (region, size class, policy area) in the generator",
        basis="model")
    add("kora.increased_focus", 100 * focus.mean(), "share of all invited heads' areas with increased focus")
    add("kora.no_region_dependence", 0.0,
        "neither increased focus nor the overall value depends on region in the generator", basis="model")
    add("kora.no_party_dependence", 0.0,
        "neither increased focus nor the overall value depends on the mayor's party", basis="model")
    add("kora.cost_effectiveness_value", 100 * is_cost.mean(), "share naming cost-effectiveness")
    add("kora.cost_effectiveness_pressure", is_cost[high].mean() / is_cost[~high].mean(),
        "cost-effectiveness, high vs other spending pressure")
    add("kora.democratic_value_top", rank_of(pd.Series(value).value_counts(), "democratic value"),
        "rank of democratic value among overall values")
    heads["responded"] = responded.astype(int)
    heads["increased_focus"] = blank(rng, focus)
    heads["overall_value"] = blank_text(rng, value)
    heads.loc[~responded, ["increased_focus", "overall_value"]] = None
    heads["increased_focus"] = heads["increased_focus"].astype("Int64")
    return heads


def kora_collaborations(heads: pd.DataFrame, truth: list[dict]) -> pd.DataFrame:
    rng = stream("kora-collab")
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
    add = adder(truth, "all")
    add("kora.cross_area", 100 * population["cross_area"].mean(), "share of all collaborations across areas")
    add("kora.several_partners", 100 * (population["civil_partners"] > 1).mean(), "share with several civil partners")
    counts = population["policy_area"].value_counts()
    add("kora.health_most_collaborations", rank_of(counts, "Health and prevention"), "rank of health by number")
    add("kora.technical_fewest_collaborations", rank_of(counts, "Technical and environment", ascending=True),
        "rank of technical and environment from the bottom")
    add("kora.municipality_initiates", rank_of(population["initiator"].value_counts(), "municipality"),
        "rank of the municipality among initiators")
    respondents = set(heads.loc[heads["responded"] == 1, "head_id"])
    sample = population[population["head_id"].isin(respondents)].reset_index(drop=True)
    sample.insert(0, "collaboration_id", np.arange(1, len(sample) + 1))
    for col in ("cross_area", "long_term"):
        sample[col] = blank(rng, sample[col].to_numpy())
    sample["initiator"] = blank_text(rng, sample["initiator"].to_numpy())
    return sample


# ---- KL mapping of municipal collaborations 2017 (every municipality answered: a census) -------------------------
KL_OTHER_PURPOSES = {"operations and service delivery": 0.27, "knowledge sharing and networks": 0.17,
                     "exercise of authority": 0.13, "reducing operating costs": 0.11, "other": 0.13}  # invented
KL_PARTNERS = {"other municipalities": 0.55, "regions": 0.15, "private firms": 0.18, "other public bodies": 0.12}


def kl_collaborations(truth: list[dict]) -> pd.DataFrame:
    rng = stream("kl")
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
    add = adder(truth, "all")
    # KL's mapping is a census of the collaborations: the stand-in holds all of them, so these four are counts.
    add("kl.collaborations_per_municipality", float(counts.mean()), "collaborations per municipality", basis="census")
    add("kl.innovation_purpose_share", 100 * shares["innovation and development"] / n, "innovation as main purpose",
        basis="census")
    add("kl.innovation_purpose_rank", rank_of(shares, "innovation and development"), "rank of innovation",
        basis="census")
    add("kl.cost_reduction_rarer_than_innovation",
        float(shares["reducing operating costs"] < shares["innovation and development"]), "cost reduction rarer",
        basis="census")
    return pd.DataFrame({
        "collaboration_id": np.arange(1, n + 1), "municipality_code": codes,
        "main_purpose": blank_text(rng, purpose),
        "partner_type": rng.choice(list(KL_PARTNERS), size=n, p=list(KL_PARTNERS.values())),
        "established": rng.choice(np.arange(1995, 2018), size=n, p=_established_weights()),
        "company_form": (rng.random(n) < 0.08).astype(int),  # invented; KL-07 says under 10 %
    })


def _established_weights() -> np.ndarray:
    years = np.arange(1995, 2018)
    w = np.where(years < 2007, 1.0, 2.0 + 0.35 * np.clip(years - 2011, 0, None))  # KL-05, KL-06 (shape invented)
    return w / w.sum()
