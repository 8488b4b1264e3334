"""How often do the pipeline checks miss by chance? Regenerate the stand-ins with other seeds and count, for every
check the notebooks make, how often the estimate fails to recover the stand-in's truth. With 95% intervals about
one in twenty should miss; far more would mean an estimator (or its interval) is wrong. Not a test: it takes a
while and its result is a rate, not a pass/fail.

    .venv/bin/python bench/stand_in_coverage.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import collections
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def checks(folder: Path) -> list[tuple[str, str, bool]]:
    """(finding id, scope, recovered) for every check the report notebooks make, on the stand-ins in ``folder``."""
    from kommunelab.analysis import coi, kl, kora, ks
    from kommunelab.findings import recovers
    from kommunelab.survey import load_survey
    from kommunelab.synthetic import truth_value

    out = []

    def check(fid, value, ci=None, unit="pct", scope="all"):
        out.append((fid, scope, recovers(unit, float(value), ci, truth_value(fid, scope))))

    w, u = load_survey("coi_workplaces", folder), load_survey("ks_units", folder)
    c, h, kc = (load_survey(n, folder) for n in ("kl_collaborations", "kora_heads", "kora_collaborations"))
    for s in ("all", *sorted(w["sector"].unique())):
        e = coi.workplaces_innovated(w, s)
        check("coi.workplaces_innovated", e.value, e.ci, scope=s)
        roles = coi.innovation_roles(w, s)
        for fid, key in (("coi.citizens", "citizens"), ("coi.volunteers", "volunteers"),
                         ("coi.citizens_or_volunteers", "either")):
            check(fid, roles[key].value, roles[key].ci, scope=s)
        try:
            r, _, _ = coi.democratic_value_ratio(w, s)
            check("coi.democratic_value_ratio", r.estimate, r.ci, "ratio", s)
        except ValueError:  # no democratic value at all in a small sector's sample: no ratio to check
            pass
    shares = kl.municipal_innovation_collaboration(w)
    for fid, key in (("kl.innovations_with_outside_actors", "outside_actor"),
                     ("kl.innovations_same_municipality", "same_municipality"),
                     ("kl.innovations_external_party", "external_party")):
        check(fid, shares[key].value, shares[key].ci)
    e = ks.units_innovated(u)
    check("ks.units_innovated", e.value, e.ci)
    g = ks.sector_gap(u)
    check("ks.sector_gap", g.estimate, g.ci, "pp")
    for s in ("all", *sorted(u["sector"].unique())):
        q = ks.value_forms(u, s).set_index("value_form").loc["better quality"]
        check("ks.quality_share", q["share"], (q["low"], q["high"]), scope=s)
        check("ks.quality_top_result", q["rank"], unit="rank", scope=s)
    check("ks.societal_challenges_top_driver", ks.drivers(u).set_index("category").loc["societal challenges", "rank"],
          unit="rank")
    e = kl.collaborations_per_municipality(c)
    check("kl.collaborations_per_municipality", e.value, e.ci)
    p = kl.purpose_shares(c).set_index("category").loc["innovation and development"]
    check("kl.innovation_purpose_share", p["share"], (p["low"], p["high"]))
    check("kl.innovation_purpose_rank", p["rank"], unit="rank")
    e = kora.response_rate(h)
    check("kora.response_rate", e.value, e.ci)
    d = kora.response_difference(h)
    check("kora.response_even", d.estimate, d.ci, "pp")
    e = kora.increased_focus(h)
    check("kora.increased_focus", e.value, e.ci)
    for fid, by in (("kora.no_region_dependence", "region"), ("kora.no_party_dependence", "mayor_party")):
        d = kora.dependence_on(h, by)
        check(fid, d.estimate, d.ci, "pp")
    cs = kora.collaboration_shares(kc, h)
    check("kora.cross_area", cs["cross_area"].value, cs["cross_area"].ci)
    check("kora.several_partners", cs["several_partners"].value, cs["several_partners"].ci)
    values = kora.overall_values(h).set_index("category")
    check("kora.cost_effectiveness_value", values.loc["cost-effectiveness", "share"],
          (values.loc["cost-effectiveness", "low"], values.loc["cost-effectiveness", "high"]))
    check("kora.democratic_value_top", values.loc["democratic value", "rank"], unit="rank")
    r = kora.cost_effectiveness_by_pressure(h)
    check("kora.cost_effectiveness_pressure", r.estimate, r.ci, "ratio")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("KOMMUNELAB_ROOT", str(REPO))
    from kommunelab import survey, synthetic

    missed, total = collections.Counter(), collections.Counter()
    with tempfile.TemporaryDirectory(prefix="kommunelab-coverage-") as tmp:
        for i in range(args.seeds):
            synthetic.design.SEED = 1000 + i
            folder = Path(tmp) / f"seed-{i}"
            synthetic.write_all(folder)
            survey.stand_in_checksums.cache_clear()
            for fid, _scope, ok in checks(folder):
                total[fid] += 1
                missed[fid] += not ok
    print(f"{'finding':44} missed / checks over {args.seeds} seeds")
    for fid in sorted(total):
        print(f"{fid:44} {missed[fid]:3d} / {total[fid]}")
    print(f"{'all':44} {sum(missed.values()):3d} / {sum(total.values())} "
          f"({100 * sum(missed.values()) / sum(total.values()):.1f}% missed; about 5% expected at 95%)")


if __name__ == "__main__":
    main()
