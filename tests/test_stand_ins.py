"""The stand-ins and their truth: pipeline checks that can fail, survey folders that cannot be faked by accident,
and blank answers left out of every estimate."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from kommunelab import stats, synthetic
from kommunelab.analysis import coi, kl, kora, ks
from kommunelab.cli import main
from kommunelab.errors import DataError, ParameterError
from kommunelab.findings import recovers
from kommunelab.manifest import load_manifest, validate_parameters
from kommunelab.survey import DESCRIPTOR, load_survey, open_package


def _recovered(finding_id: str, estimate, scope: str = "all") -> bool:
    return recovers("pct", estimate.value, estimate.ci, synthetic.truth_value(finding_id, scope))


def test_the_design_based_estimators_recover_the_stand_in_truth(project):
    workplaces, units = load_survey("coi_workplaces"), load_survey("ks_units")
    assert _recovered("coi.workplaces_innovated", coi.workplaces_innovated(workplaces))
    assert _recovered("ks.units_innovated", ks.units_innovated(units))


def test_an_estimator_that_ignores_the_weights_fails_a_pipeline_check(project, monkeypatch):
    workplaces, units = load_survey("coi_workplaces"), load_survey("ks_units")
    design_based = stats.weighted_mean

    def unweighted(y, weights=None, strata=None, alpha=0.05, clusters=None):
        return design_based(y, None, strata, alpha, clusters)

    monkeypatch.setattr(stats, "weighted_mean", unweighted)
    checks = [_recovered("coi.workplaces_innovated", coi.workplaces_innovated(workplaces)),
              _recovered("ks.units_innovated", ks.units_innovated(units))]
    assert not all(checks), "dropping the design weights must make a pipeline check fail"


def test_generators_read_their_targets_from_the_published_findings(project):
    path = project / "data" / "published" / "findings.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = table["id"] == "kora.increased_focus"
    table.loc[row, ["published_value", "target_low", "target_high"]] = ["60", "59.5", "60.5"]
    table.to_csv(path, index=False)
    from kommunelab.findings import published_findings

    published_findings.cache_clear()
    _, truth = synthetic.generate()
    value = truth.set_index(["finding_id", "scope"]).loc[("kora.increased_focus", "all"), "truth"]
    assert 55 < value < 65


def test_every_synthetic_finding_has_a_truth_and_the_truth_file_is_complete(project):
    truth = synthetic.truth_table()
    from kommunelab.findings import published_findings

    synthetic_ids = set(published_findings().query("evidence == 'synthetic'")["id"])
    assert synthetic_ids <= set(truth["finding_id"])
    assert set(truth["basis"]) <= {"population", "census", "model"}
    # The census self-comparisons a reviewer counted (a count of the stand-in against the generator's count), and
    # only those, say so: their cards read "census count", not a check of an estimator.
    census = set(truth.query("basis == 'census'")["finding_id"])
    assert census == {"kl.collaborations_per_municipality", "kl.innovation_purpose_share", "kl.innovation_purpose_rank",
                      "kl.cost_reduction_rarer_than_innovation", "kora.invited", "kora.response_rate"}


# ---- survey folders ----------------------------------------------------------------------------------------------
def _copy_tables(project, folder, names=("ks_units",)):
    folder.mkdir()
    for name in names:
        shutil.copy(project / "data" / "synthetic" / f"{name}.csv", folder / f"{name}.csv")
    return folder


def _describe(folder, title="KS unit managers 2018 (real)"):
    main(["microdata", "init", str(folder)])
    meta = json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8"))
    meta.update(title=title, sources=[{"title": "KS", "path": "https://www.ks.no"}], licenses=[{"name": "by agreement"}])
    (folder / DESCRIPTOR).write_text(json.dumps(meta), encoding="utf-8")


def test_a_folder_without_a_descriptor_is_refused_before_a_kernel_starts(project, tmp_path):
    folder = _copy_tables(project, tmp_path / "copy")
    report = load_manifest()["ks_innovation_barometer"]
    with pytest.raises(ParameterError, match=r"data_dir.*no datapackage.json.*kommunelab microdata init"):
        validate_parameters(report, {"data_dir": str(folder)})
    with pytest.raises(DataError, match="no datapackage.json"):
        load_survey("ks_units", folder)


def test_copies_of_the_stand_ins_stay_synthetic(project, tmp_path):
    whole = tmp_path / "whole"
    shutil.copytree(project / "data" / "synthetic", whole)
    assert load_survey("ks_units", whole).attrs["synthetic"] is True
    described = _copy_tables(project, tmp_path / "described")
    _describe(described)  # a descriptor that does not say synthetic: the byte-identical file still does
    assert open_package(described).synthetic is True


def test_real_tables_with_a_descriptor_are_microdata(project, tmp_path):
    folder = _copy_tables(project, tmp_path / "real")
    table = pd.read_csv(folder / "ks_units.csv", dtype=str, keep_default_na=False)
    for i, column in enumerate(("weight", "innovated", "value_quality", "value_efficiency", "main_driver")):
        table[column] = table[column].sample(frac=1, random_state=i).to_numpy()  # other data, same columns
    table.to_csv(folder / "ks_units.csv", index=False)
    assert main(["microdata", "init", str(folder)]) == 0
    with pytest.raises(DataError, match="FILL IN"):  # the template must be filled in before use
        open_package(folder)
    (folder / DESCRIPTOR).unlink()
    _describe(folder)
    package = open_package(folder)
    assert package.synthetic is False and package.title == "KS unit managers 2018 (real)"
    assert load_survey("ks_units", folder).attrs["synthetic"] is False
    resources = json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8"))["resources"]
    assert [r["name"] for r in resources] == ["ks_units"] and resources[0]["schema"]["fields"][0]["name"] == "unit_id"


@pytest.mark.parametrize("edit", ["one cell", "renumbered and shuffled"])
def test_an_edited_copy_of_a_stand_in_stays_synthetic(project, tmp_path, edit):
    """The reviewer's probe: copy data/synthetic/, change one cell, fill in the descriptor template: the folder is
    still the stand-in (its rows coincide), so the banner stays and no finding is 'differs' against invented data."""
    folder = _copy_tables(project, tmp_path / "edited")
    table = pd.read_csv(folder / "ks_units.csv", dtype=str, keep_default_na=False)
    if edit == "one cell":
        table.loc[0, "weight"] = "1.2345"
    else:
        table = table.sample(frac=1, random_state=3).reset_index(drop=True)
        table["unit_id"] = range(5001, 5001 + len(table))
    table.to_csv(folder / "ks_units.csv", index=False)
    _describe(folder)
    package = open_package(folder)
    assert package.synthetic is True and "data/synthetic/ks_units.csv" in package.why_synthetic
    assert load_survey("ks_units", folder).attrs["synthetic"] is True


def test_survey_columns_are_checked_against_their_allowed_values(project, tmp_path):
    folder = _copy_tables(project, tmp_path / "bad")
    table = pd.read_csv(folder / "ks_units.csv", dtype=str, keep_default_na=False)
    table.loc[4, "innovated"] = "7"
    table.to_csv(folder / "ks_units.csv", index=False)
    _describe(folder)
    with pytest.raises(DataError, match=r"ks_units.csv, row 6, column 'innovated': '7' is not one of 0, 1"):
        open_package(folder)


# ---- item non-response -------------------------------------------------------------------------------------------
def _blank(frame: pd.DataFrame, column: str, share: float = 0.2, seed: int = 1) -> pd.DataFrame:
    out = frame.copy()
    hit = np.random.default_rng(seed).random(len(out)) < share
    out.loc[hit & out[column].notna(), column] = None
    return out


def test_blank_answers_are_left_out_of_every_estimate(project):
    heads = load_survey("kora_heads")
    blanked = _blank(heads, "increased_focus")
    answered = blanked[blanked["increased_focus"].notna()]
    estimate = kora.increased_focus(blanked)
    assert estimate.value == pytest.approx(kora.increased_focus(answered).value)
    assert estimate.n == int((answered["responded"] == 1).sum()) < kora.increased_focus(heads).n
    by = kora.share_by(blanked, "increased_focus", "region")
    assert by["answered"].sum() == estimate.n

    collabs = _blank(load_survey("kora_collaborations"), "cross_area")
    assert kora.collaboration_shares(collabs, heads)["cross_area"].value == pytest.approx(
        100 * collabs["cross_area"].dropna().astype(float).mean())

    values = _blank(heads, "overall_value")
    shares = kora.overall_values(values)
    assert shares["answered"].iloc[0] == values.loc[values["responded"] == 1, "overall_value"].notna().sum()

    units = _blank(load_survey("ks_units"), "value_quality")
    quality = ks.value_forms(units).set_index("value_form").loc["better quality"]
    inn = units[(units["innovated"] == 1) & units["value_quality"].notna()]
    assert quality["answered"] == len(inn)
    assert quality["share"] == pytest.approx(100 * np.average(inn["value_quality"].astype(float), weights=inn["weight"]))

    collaborations = _blank(load_survey("kl_collaborations"), "main_purpose")
    by_region = kl.purpose_by(collaborations, "region")
    assert by_region["collaborations"].sum() == collaborations["main_purpose"].notna().sum()


def test_either_role_needs_both_answers(project):
    workplaces = _blank(load_survey("coi_workplaces"), "citizens_role")
    inn = workplaces[workplaces["innovated"] == 1]
    both = inn[inn["citizens_role"].notna() & inn["volunteers_role"].notna()]
    either = coi.innovation_roles(workplaces)["either"]
    assert either.n == len(both)
    expected = np.average(np.maximum(both["citizens_role"].astype(float), both["volunteers_role"].astype(float)),
                          weights=both["weight"])
    assert either.value == pytest.approx(100 * expected)
