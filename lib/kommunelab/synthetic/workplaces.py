"""Stand-ins for the two workplace surveys: COI's innovation barometer 2015-16 and KS's 2018 barometer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import data
from .design import adder, blank, blank_text, rank_of, stratified_sample, stream, target

# ---- COI innovation barometer 2015-16 (public workplaces and their latest innovation) ---------------------------
COI_POPULATION = 12_000  # invented number of public workplaces
COI_SECTORS = {"municipal": 0.70, "regional": 0.12, "state": 0.18}  # invented
COI_LARGE = 0.30  # invented share of large workplaces
COI_LARGE_RATE = 3.0  # invented design: a large workplace is three times as likely to be sampled
COI_LARGE_LIFT = 0.15  # invented: large workplaces innovate 15 points more often than small ones
COI_DEMOCRATIC_BASE = 0.08  # invented: democratic value without citizens or associations


def _dk_codes() -> np.ndarray:
    return data.municipalities()["municipality_code"].to_numpy()


def coi_workplaces(truth: list[dict]) -> pd.DataFrame:
    rng = stream("coi")
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
        add = adder(truth, scope)
        add("coi.workplaces_innovated", 100 * innovated[part].mean(), "share of workplaces that innovated")
        add("coi.citizens", 100 * citizens[inn].mean(), "share of innovations with citizens")
        add("coi.volunteers", 100 * volunteers[inn].mean(), "share of innovations with associations")
        add("coi.citizens_or_volunteers", 100 * active[inn].mean(), "share with citizens or associations")
        add("coi.democratic_value_ratio", democratic[inn & active].mean() / democratic[inn & ~active].mean(),
            "democratic value with / without citizens or associations")
    municipal_inn = innovated & (sector == "municipal")
    add = adder(truth, "all")
    add("kl.innovations_with_outside_actors", 100 * outside[municipal_inn].mean(), "municipal innovations, outside actors")
    add("kl.innovations_same_municipality", 100 * same_muni[municipal_inn].mean(), "municipal innovations, same municipality")
    add("kl.innovations_external_party", 100 * external[municipal_inn].mean(), "municipal innovations, external party")

    n = data.survey_base("COI innovation barometer 2015-16", "responding public workplaces")
    rates = {s: COI_LARGE_RATE if s.endswith("large") else 1.0 for s in np.unique(stratum)}
    idx, weight = stratified_sample(rng, stratum, rates, n)
    frame = pd.DataFrame({"workplace_id": np.arange(1, n + 1), "sector": sector[idx], "stratum": stratum[idx],
                          "municipality_code": municipality[idx], "weight": weight.round(4),
                          "innovated": innovated[idx].astype(int)})
    asked = innovated[idx]  # the follow-up questions are put to innovating workplaces only
    for name, values in (("citizens_role", citizens), ("volunteers_role", volunteers),
                         ("democratic_value", democratic), ("outside_actor", outside),
                         ("same_municipality", same_muni), ("external_party", external)):
        col = blank(rng, values[idx])
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
    from ..targets import interval

    rng = stream("ks")
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

    add = adder(truth, "all")
    add("ks.units_innovated", 100 * innovated.mean(), "share of units that innovated")
    add("ks.sector_gap", 100 * (innovated[sector == KS_SECTORS[0]].mean() - innovated[sector == KS_SECTORS[1]].mean()),
        "education minus health and care, points")
    add("ks.societal_challenges_top_driver", rank_of(pd.Series(driver).value_counts(), "societal challenges"),
        "rank of societal challenges among drivers")
    for scope in ("all", *KS_SECTORS):
        inn = innovated & (True if scope == "all" else sector == scope)
        shares = pd.Series({col: values[inn].mean() for col, values in answers.items()})
        add = adder(truth, scope)
        add("ks.quality_share", 100 * shares["value_quality"], "share of newest innovations with better quality")
        add("ks.quality_top_result", rank_of(shares, "value_quality"), "rank of quality among forms of value")

    n = data.survey_base("KS innovation barometer 2018", "responding unit managers")
    idx, weight = stratified_sample(rng, sector, {KS_SECTORS[0]: KS_EDUCATION_SAMPLED / share_education,
                                                   KS_SECTORS[1]: (1 - KS_EDUCATION_SAMPLED) / (1 - share_education)}, n)
    codes = data.no_municipalities(2017)
    pick = rng.integers(0, len(codes), n)
    frame = pd.DataFrame({"unit_id": np.arange(1, n + 1),
                          "municipality_code": codes["municipality_code"].to_numpy()[pick],
                          "county_code": codes["county_code"].to_numpy()[pick], "sector": sector[idx],
                          "weight": weight.round(4), "innovated": innovated[idx].astype(int)})
    for col, values in answers.items():
        answered = blank(rng, values[idx])
        answered[~innovated[idx]] = pd.NA  # asked of innovating units only
        frame[col] = answered
    frame["main_driver"] = blank_text(rng, driver[idx])
    return frame
