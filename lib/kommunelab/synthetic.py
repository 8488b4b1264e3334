"""Synthetic stand-ins for the four surveys whose microdata are not public.

Real: the frames (the 98 Danish municipalities with their regions and populations, the Norwegian municipalities
of 2017), the published sample sizes and response rates, and the published marginal shares the generators are
set to. Invented: every respondent-level value, and every joint distribution the reports do not publish.
Deterministic (fixed seed); ``kommunelab synthetic`` / ``make synthetic`` regenerates identical files.

Each table's columns are documented in data/synthetic/README.md; real microdata with the same columns can be
put in another folder and passed to the notebooks as ``data_dir``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import data
from .data.schema import Column, Schema, read_table
from .paths import project_root
from .provenance import record_read, sha256_file

SEED = 20151001
MARKER = "SYNTHETIC.txt"


def synthetic_dir() -> Path:
    return project_root() / "data" / "synthetic"


def _rng(name: str) -> np.random.Generator:
    # One independent stream per table, so changing one generator leaves the others' files unchanged.
    return np.random.default_rng([SEED, sum(map(ord, name))])


# ---- COI innovation barometer 2015-16 (workplaces and their latest innovation) ---------------------------------
COI_SECTORS = {"municipal": 0.70, "regional": 0.12, "state": 0.18}  # invented split of responding workplaces


def coi_workplaces() -> pd.DataFrame:
    rng = _rng("coi")
    n = data.survey_base("COI innovation barometer 2015-16", "responding public workplaces")
    sector = rng.choice(list(COI_SECTORS), size=n, p=list(COI_SECTORS.values()))
    large = rng.random(n) < 0.35
    stratum = [f"{s}-{'large' if lg else 'small'}" for s, lg in zip(sector, large, strict=True)]
    # Invented design weights: small workplaces are sampled less, so they weigh more.
    weight = np.where(large, 3.0, 7.5) * rng.uniform(0.9, 1.1, n)
    innovated = rng.random(n) < np.where(large, 0.90, 0.76)  # weighted share about 80 % (published CO-01)
    municipality = np.where(sector == "municipal", rng.choice(_dk_codes(), size=n), 0)
    k = int(innovated.sum())
    citizens = rng.random(k) < 0.63  # CO-04
    # CO-02 (66 %) = citizens or associations, with associations in 16 % (CO-05): overlap 13 %.
    volunteers = rng.random(k) < np.where(citizens, 0.13 / 0.63, 0.03 / 0.37)
    active = citizens | volunteers
    democratic = rng.random(k) < np.where(active, 0.24, 0.08)  # CO-03: three times as often
    outside = rng.random(k) < 0.78  # KL-09
    same_muni = outside & (rng.random(k) < 0.56 / 0.78)  # KL-10
    external = outside & (rng.random(k) < 0.56 / 0.78)  # KL-11
    frame = pd.DataFrame({"workplace_id": np.arange(1, n + 1), "sector": sector, "stratum": stratum,
                          "municipality_code": municipality, "weight": weight.round(4),
                          "innovated": innovated.astype(int)})
    inn = np.flatnonzero(innovated)
    for name, values in (("citizens_role", citizens), ("volunteers_role", volunteers),
                         ("democratic_value", democratic), ("outside_actor", outside),
                         ("same_municipality", same_muni), ("external_party", external)):
        col = pd.array([pd.NA] * n, dtype="Int64")
        col[inn] = values.astype(int)
        frame[name] = col
    return frame


# ---- KS innovation barometer 2018 (unit managers) ----------------------------------------------------------------
KS_DRIVERS = {"societal challenges": 0.31, "user needs": 0.24, "political goals": 0.10, "employee ideas": 0.20,
              "new technology": 0.15}  # invented; only "societal challenges first" is published (KS-12)


KS_FORM_COLUMNS = {"better quality": "value_quality", "employee satisfaction": "value_employee_satisfaction",
                   "efficiency": "value_efficiency", "citizen influence": "value_citizen_influence"}


def ks_units() -> pd.DataFrame:
    rng = _rng("ks")
    n = data.survey_base("KS innovation barometer 2018", "responding unit managers")
    codes = data.no_municipalities(2017)
    pick = rng.integers(0, len(codes), n)
    sector = rng.choice(["education & childhood", "health & care"], size=n, p=[0.4, 0.6])
    weight = rng.uniform(0.6, 1.6, n).round(4)  # invented stand-in for the workplace x landsdel weights
    rates = data.published_table("ks_sector_rates").set_index("sector")["share_pct"] / 100  # KS-02
    innovated = rng.random(n) < np.where(sector == "education & childhood", rates["education & childhood"],
                                         rates["health & care"])
    published = data.published_table("ks_value_forms").set_index("value_form")["share_pct"] / 100  # KS-10
    forms = {KS_FORM_COLUMNS[form]: share for form, share in published.items()}
    frame = pd.DataFrame({"unit_id": np.arange(1, n + 1), "kommunenummer": codes["kommunenummer"].to_numpy()[pick],
                          "fylkesnummer": codes["fylkesnummer"].to_numpy()[pick], "sector": sector,
                          "weight": weight, "innovated": innovated.astype(int)})
    for name, p in forms.items():
        col = pd.array([pd.NA] * n, dtype="Int64")
        col[np.flatnonzero(innovated)] = (rng.random(int(innovated.sum())) < p).astype(int)
        frame[name] = col
    frame["main_driver"] = rng.choice(list(KS_DRIVERS), size=n, p=list(KS_DRIVERS.values()))
    return frame


# ---- KORA 2015 (department heads) and their concrete collaborations ----------------------------------------------
KORA_AREAS = {"Health and prevention": 2.2, "Social services": 1.6, "Elderly care": 1.2, "Integration": 1.0,
              "Children and youth": 1.0, "Schools": 0.9, "Employment": 0.9, "Culture and leisure": 1.1,
              "Technical and environment": 0.4}  # relative number of collaborations (order from KO-11)
KORA_VALUES = {"democratic value": 0.30, "better service quality": 0.26, "trust between citizens and municipality": 0.20,
               "stronger civil society": 0.19, "cost-effectiveness": 0.05}  # KO-07 (1 in 20), KO-09 (order)


def _dk_codes() -> np.ndarray:
    return data.municipalities()["municipality_code"].to_numpy()


def kora_heads() -> pd.DataFrame:
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
    responded = np.zeros(len(heads), dtype=bool)
    responded[rng.choice(len(heads), size=round(0.53 * invited), replace=False)] = True  # KO-02: 53 %
    heads["responded"] = responded.astype(int)
    r = int(responded.sum())
    idx = np.flatnonzero(responded)
    focus = pd.array([pd.NA] * len(heads), dtype="Int64")
    focus[idx] = (rng.random(r) < 0.82).astype(int)  # KO-04
    heads["increased_focus"] = focus
    high = heads["spending_pressure"].to_numpy()[idx] == "high"
    values = np.empty(r, dtype=object)
    other_values = [v for v in KORA_VALUES if v != "cost-effectiveness"]
    other_p = np.array([KORA_VALUES[v] for v in other_values])
    for i in range(r):
        p_cost = 0.075 if high[i] else 0.04  # KO-08: a little more often under high pressure
        values[i] = "cost-effectiveness" if rng.random() < p_cost else rng.choice(other_values, p=other_p / other_p.sum())
    overall = pd.Series([None] * len(heads), dtype=object)
    overall.iloc[idx] = values
    heads["overall_value"] = overall
    return heads


def kora_collaborations(heads: pd.DataFrame) -> pd.DataFrame:
    rng = _rng("kora-collab")
    resp = heads[heads["responded"] == 1]
    rows = []
    cid = 0
    for h in resp.itertuples():
        for _ in range(rng.poisson(1.3 * KORA_AREAS[h.policy_area])):
            cid += 1
            rows.append({
                "collaboration_id": cid, "head_id": h.head_id, "policy_area": h.policy_area,
                "cross_area": int(rng.random() < 0.39),  # KO-05
                "civil_partners": int(2 + rng.poisson(1.0)) if rng.random() < 2 / 3 else 1,  # KO-06: 2 of 3 > 1
                "long_term": int(rng.random() < (0.7 if h.policy_area == "Health and prevention" else 0.5)),
                "initiator": rng.choice(["municipality", "association", "citizens", "other"],
                                        p=[0.62, 0.18, 0.12, 0.08]),  # KO-14: municipality mostly initiates
            })
    return pd.DataFrame(rows)


# ---- KL mapping of municipal collaborations 2017 -----------------------------------------------------------------
KL_PURPOSES = {"operations and service delivery": 0.27, "innovation and development": 0.19,
               "knowledge sharing and networks": 0.17, "exercise of authority": 0.13, "reducing operating costs": 0.11,
               "other": 0.13}  # only the 19 % and its rank 2 are published (KL-02, KL-03, KL-04)
KL_PARTNERS = {"other municipalities": 0.55, "regions": 0.15, "private firms": 0.18, "other public bodies": 0.12}


def kl_collaborations() -> pd.DataFrame:
    rng = _rng("kl")
    munis = data.municipalities()
    pop = data.population(year=2017, level="municipality").set_index("area_code")["population"]
    size = munis["municipality_code"].map(pop).to_numpy()
    # Invented: larger municipalities take part in somewhat more collaborations; mean 47 (KL-01).
    expected = 47 * (size / size.mean()) ** 0.2
    expected *= 47 / expected.mean()
    counts = rng.poisson(expected)
    codes = np.repeat(munis["municipality_code"].to_numpy(), counts)
    n = len(codes)
    return pd.DataFrame({
        "collaboration_id": np.arange(1, n + 1), "municipality_code": codes,
        "main_purpose": rng.choice(list(KL_PURPOSES), size=n, p=list(KL_PURPOSES.values())),
        "partner_type": rng.choice(list(KL_PARTNERS), size=n, p=list(KL_PARTNERS.values())),
        "established": rng.choice(np.arange(1995, 2018), size=n, p=_established_weights()),
        "company_form": (rng.random(n) < 0.08).astype(int),  # KL-07: under 10 %
    })


def _established_weights() -> np.ndarray:
    years = np.arange(1995, 2018)
    w = np.where(years < 2007, 1.0, 2.0 + 0.35 * np.clip(years - 2011, 0, None))  # KL-05, KL-06 (shape invented)
    return w / w.sum()


# ---- schemas, writing and reading ------------------------------------------------------------------------------
def _schema(name: str, cols: list[tuple[str, str, bool]]) -> Schema:
    return Schema(name, tuple(Column(c, kind, nullable=nullable) for c, kind, nullable in cols))


SCHEMAS = {
    "coi_workplaces": _schema("coi_workplaces", [
        ("workplace_id", "int", False), ("sector", "str", False), ("stratum", "str", False),
        ("municipality_code", "int", False), ("weight", "float", False), ("innovated", "int", False),
        ("citizens_role", "int", True), ("volunteers_role", "int", True), ("democratic_value", "int", True),
        ("outside_actor", "int", True), ("same_municipality", "int", True), ("external_party", "int", True)]),
    "ks_units": _schema("ks_units", [
        ("unit_id", "int", False), ("kommunenummer", "str", False), ("fylkesnummer", "str", False),
        ("sector", "str", False), ("weight", "float", False), ("innovated", "int", False),
        ("value_quality", "int", True), ("value_employee_satisfaction", "int", True),
        ("value_efficiency", "int", True), ("value_citizen_influence", "int", True), ("main_driver", "str", False)]),
    "kora_heads": _schema("kora_heads", [
        ("head_id", "int", False), ("municipality_code", "int", False), ("region_code", "int", False),
        ("policy_area", "str", False), ("size_class", "str", False), ("mayor_party", "str", False),
        ("spending_pressure", "str", False), ("responded", "int", False), ("increased_focus", "int", True),
        ("overall_value", "str", True)]),
    "kora_collaborations": _schema("kora_collaborations", [
        ("collaboration_id", "int", False), ("head_id", "int", False), ("policy_area", "str", False),
        ("cross_area", "int", False), ("civil_partners", "int", False), ("long_term", "int", False),
        ("initiator", "str", False)]),
    "kl_collaborations": _schema("kl_collaborations", [
        ("collaboration_id", "int", False), ("municipality_code", "int", False), ("main_purpose", "str", False),
        ("partner_type", "str", False), ("established", "int", False), ("company_form", "int", False)]),
}


def generate() -> dict[str, pd.DataFrame]:
    heads = kora_heads()
    return {"coi_workplaces": coi_workplaces(), "ks_units": ks_units(), "kora_heads": heads,
            "kora_collaborations": kora_collaborations(heads), "kl_collaborations": kl_collaborations()}


def write_all(folder: Path | None = None) -> list[Path]:
    """Regenerate every stand-in into ``folder`` (default data/synthetic/), each file written whole."""
    folder = folder or synthetic_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in generate().items():
        target = folder / f"{name}.csv"
        tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
        frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        os.replace(tmp, target)
        written.append(target)
    marker = folder / MARKER
    marker.write_text("The CSV files in this folder are synthetic stand-ins generated by kommunelab.synthetic "
                      f"(seed {SEED}). They are not survey data.\n", encoding="utf-8")
    written.append(marker)
    return written


def is_synthetic(folder: Path) -> bool:
    return (Path(folder) / MARKER).is_file()


def resolve_dir(data_dir: str | Path | None) -> Path:
    """The folder to read survey tables from: ``data_dir`` if given (relative to the project), else the stand-ins."""
    if not data_dir:
        return synthetic_dir()
    path = Path(data_dir).expanduser()
    return path if path.is_absolute() else project_root() / path


def load_survey(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """One survey table, validated against its schema, from ``data_dir`` (default: the synthetic stand-ins)."""
    folder = resolve_dir(data_dir)
    path = folder / f"{name}.csv"
    if name not in SCHEMAS:
        raise KeyError(f"unknown survey table {name!r}; known: {', '.join(SCHEMAS)}")
    if not path.is_file():
        hint = "run `make synthetic`" if folder == synthetic_dir() else f"put {name}.csv (columns in data/synthetic/README.md) there"
        raise data.DataError(str(path), "survey table not found", hint=hint)
    frame = read_table(path, SCHEMAS[name])
    origin = "synthetic" if is_synthetic(folder) else "microdata"
    record_read(str(path), sha256_file(path), origin, "kommunelab.synthetic" if origin == "synthetic" else str(folder),
                name)
    frame.attrs["synthetic"] = origin == "synthetic"
    return frame

