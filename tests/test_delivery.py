"""Survey microdata as analysts hold them: SPSS, Stata, Excel and CSV deliveries read through a codebook, checked
before a build, drafted from their labels, and never mistaken for real when they are the stand-ins."""

from __future__ import annotations

import shutil

import pandas as pd
import pyreadstat
import pytest

from kommunelab.cli import main
from kommunelab.data.tables import SURVEY_TABLES
from kommunelab.delivery.check import check, render
from kommunelab.delivery.codebook import CODEBOOK
from kommunelab.delivery.formats import read_source
from kommunelab.errors import DataError
from kommunelab.survey import load_survey, open_package
from kommunelab.synthetic.delivery import FILES, write_delivery

pytestmark = pytest.mark.slow  # each test writes a delivery (about 2 s)

COI_SAV = FILES["coi_workplaces"][0]


@pytest.fixture
def delivery(project, tmp_path):
    folder = tmp_path / "delivery"
    write_delivery(folder)
    return folder


def test_the_stand_in_delivery_reads_back_as_the_stand_ins(delivery):
    """Every table of the .sav/.dta/.xlsx delivery, read through its codebook, equals the stand-in it was written
    from (values, blanks, types), so every report gives the same findings from either."""
    assert {p.suffix for p in delivery.iterdir()} == {".sav", ".dta", ".xlsx", ".toml"}
    for table in SURVEY_TABLES:
        delivered, stand_in = load_survey(table, delivery), load_survey(table)
        pd.testing.assert_frame_equal(delivered.reset_index(drop=True), stand_in.reset_index(drop=True))
        assert delivered.attrs["synthetic"] is True


def test_the_delivery_keeps_what_real_files_carry(delivery):
    """Danish variable names and labels, numeric codes with value labels, declared missing codes, a weight of its own
    name: what the readers must understand."""
    source = read_source(delivery / COI_SAV)
    innovated = source.variables["spm1_innovation"]
    assert innovated.label.startswith("Har arbejdspladsen indført")
    assert innovated.value_labels[1.0] == "Ja" and innovated.value_labels[98.0] == "Ved ikke"
    assert {"97", "98", "99"} <= source.variables["spm7_borgere"].missing
    assert "vaegt" in source.frame.columns and "weight" not in source.frame.columns
    stata = read_source(delivery / FILES["ks_units"][0])
    assert stata.variables["sp8_kvalitet"].value_labels[2] == "Nei"


def test_the_check_reports_rows_codes_reasons_and_n(delivery, capsys):
    assert main(["microdata", "check", str(delivery)]) == 0
    out = capsys.readouterr().out
    assert "coi_workplaces: coi_innovationsbarometer_2015-16.sav (SPSS), 2,362 rows; n = 2,362 unweighted" in out
    assert "weighted" in out and "non-response: don't know" in out and "not asked" in out
    assert "synthetic: yes, the codebook says so" in out and "No problems" in out


def _recode(path, variable: str, rows: int, code: int, label: str) -> None:
    """Give ``rows`` rows of ``variable`` a code the codebook does not know, labelled in the file."""
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    frame.loc[frame.index[:rows], variable] = code
    labels = {k: dict(v) for k, v in meta.variable_value_labels.items()}
    labels[variable][code] = label
    pyreadstat.write_sav(frame, str(path), column_labels=meta.column_names_to_labels, variable_value_labels=labels,
                         missing_ranges=meta.missing_ranges)


def test_a_code_absent_from_the_codebook_is_refused_with_its_label(delivery, project, capsys):
    _recode(delivery / COI_SAV, "spm1_innovation", 12, 3, "Måske")
    assert main(["microdata", "check", str(delivery)]) == 2
    captured = capsys.readouterr()
    problems = captured.err.strip().splitlines()
    assert len(problems) == 1 and "variable 'spm1_innovation' (innovated) has code 3 ('Måske') in 12 row(s)" in problems[0]
    # the build runs the same check before a kernel starts
    assert main(["build", "coi_citizens_volunteers", "-p", f"data_dir={delivery}", "--formats", "html"]) == 2
    assert "has code 3 ('Måske')" in capsys.readouterr().err
    assert not (project / "reports" / "coi_citizens_volunteers").exists()


def test_init_drafts_a_codebook_from_the_labels_and_names_what_is_left(delivery, capsys):
    """Without its codebook, the delivery's labels carry it: variables renamed to questionnaire numbers are matched by
    their labels; a variable whose name and label match nothing is named as still to decide."""
    (delivery / CODEBOOK).unlink()
    frame, meta = pyreadstat.read_sav(str(delivery / COI_SAV), user_missing=True)
    renamed = {"spm7_borgere": "q7a", "spm9_demokrati": "q9", "stratum": "strat_x"}
    labels = {renamed.get(k, k): v for k, v in meta.column_names_to_labels.items()}
    labels["strat_x"] = "Allokeringsgruppe"  # says nothing a matcher could use
    pyreadstat.write_sav(frame.rename(columns=renamed), str(delivery / COI_SAV), column_labels=labels,
                         variable_value_labels={renamed.get(k, k): v for k, v in meta.variable_value_labels.items()},
                         missing_ranges={renamed.get(k, k): v for k, v in meta.missing_ranges.items()})
    assert main(["microdata", "init", str(delivery)]) == 0
    out = capsys.readouterr().out
    assert "coi_workplaces: 11 column(s) matched" in out and "coi_workplaces.stratum: no variable matches" in out
    text = (delivery / CODEBOOK).read_text(encoding="utf-8")
    assert 'citizens_role = {variable = "q7a", codes = {1 = 1,2 = 0}' in text
    assert 'democratic_value = {variable = "q9"' in text
    report, _ = check(delivery)
    assert not report.usable and "FILL IN" in report.problems[0]  # title, sources, licences and stratum to decide
    text = text.replace('stratum = {variable = "FILL IN"}', 'stratum = {variable = "strat_x", codes = '
                        '{1 = "municipal-large", 2 = "municipal-small", 3 = "regional-large", 4 = "regional-small", '
                        '5 = "state-large", 6 = "state-small"}}')
    text = text.replace("FILL IN: ", "")
    (delivery / CODEBOOK).write_text(text, encoding="utf-8")
    report, _ = check(delivery)
    assert report.usable, render(report)
    pd.testing.assert_frame_equal(load_survey("coi_workplaces", delivery), load_survey("coi_workplaces"))


def test_a_semicolon_latin1_csv_with_decimal_commas_is_read_as_delivered(delivery, project):
    """KL's table as a Danish spreadsheet exports it: semicolons, Windows-1252, a decimal comma; detected, not declared."""
    frame = pd.read_excel(delivery / FILES["kl_collaborations"][0], dtype=object)
    csv = delivery / "kl_samarbejder_2017.csv"
    frame.to_csv(csv, sep=";", index=False, encoding="cp1252")
    source = read_source(csv)
    assert (source.encoding, source.delimiter) == ("cp1252", ";")
    text = (delivery / CODEBOOK).read_text(encoding="utf-8")
    (delivery / CODEBOOK).write_text(text.replace('file = "kl_samarbejder_2017.xlsx"', 'file = "kl_samarbejder_2017.csv"')
                                     .replace('sheet = "Data"\n', ""), encoding="utf-8")
    (delivery / FILES["kl_collaborations"][0]).unlink()
    pd.testing.assert_frame_equal(load_survey("kl_collaborations", delivery), load_survey("kl_collaborations"))
    weights = delivery / "weights.csv"
    weights.write_text("id;vægt\n1;2,5\n2;0,75\n", encoding="cp1252")
    read = read_source(weights)
    assert read.decimal == "," and read.frame["vægt"].tolist() == [2.5, 0.75]


def test_a_delivery_that_is_the_stand_in_stays_synthetic_without_saying_so(delivery):
    """A codebook that does not declare the delivery synthetic does not make the stand-in real."""
    text = (delivery / CODEBOOK).read_text(encoding="utf-8").replace("synthetic = true", "synthetic = false")
    (delivery / CODEBOOK).write_text(text, encoding="utf-8")
    package = open_package(delivery)
    assert package.synthetic is True and "row for row" in package.why_synthetic


def test_a_codebook_that_misses_a_column_or_names_a_file_outside_is_refused(delivery):
    text = (delivery / CODEBOOK).read_text(encoding="utf-8")
    (delivery / CODEBOOK).write_text(text.replace('file = "' + COI_SAV + '"', 'file = "../elsewhere.sav"'),
                                     encoding="utf-8")
    with pytest.raises(DataError, match="must name a file inside the codebook's folder"):
        open_package(delivery)
    lines = [line for line in text.splitlines() if not line.startswith("weight = ")]
    (delivery / CODEBOOK).write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="maps no variable to weight"):
        open_package(delivery)


def test_a_delivery_folder_can_be_moved(delivery, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(delivery, moved)
    assert check(moved)[0].usable


def test_cards_count_the_answers_left_out_by_reason(delivery):
    """Item non-response by reason: "don't know" and "refused" are left out of the estimate (not counted as "no"),
    and the card says how many of each, beside the answered n; the stand-in's blanks count as blanks."""
    from kommunelab import findings
    from kommunelab.analysis import coi
    from kommunelab.survey import excluded

    workplaces = load_survey("coi_workplaces", delivery)
    innovations = coi.innovations(workplaces)
    estimate = coi.innovation_roles(workplaces)["citizens"]
    left_out = excluded(innovations, "citizens_role")
    assert set(left_out) == {"don't know", "refused"} and estimate.n + sum(left_out.values()) == len(innovations)
    card = findings.finding("coi.citizens", estimate.value, ci=estimate.ci, n=estimate.n, excluded=left_out)
    assert card.excluded == left_out
    html = findings.card_html(card, findings.spec("coi.citizens"))
    dont_know = left_out["don't know"]
    assert f"n = {estimate.n:,} answered; left out: {dont_know:,} don&#x27;t know" in html
    stand_in = load_survey("coi_workplaces")
    assert excluded(coi.innovations(stand_in), "citizens_role") == {"blank": sum(left_out.values())}


def test_readme_lists_every_question_a_delivery_needs():
    """README's "Using your own survey data" lists each survey column with its variable and question, as
    kommunelab.data.tables.QUESTIONS declares them (written once there)."""
    from pathlib import Path

    from kommunelab.data.tables import QUESTIONS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for columns in QUESTIONS.values():
        for column, (variable, question) in columns.items():
            assert f"| `{column}` | `{variable}` | {question} |" in readme


def test_a_compressed_spss_file_reads_as_the_plain_one(delivery):
    frame, meta = pyreadstat.read_sav(str(delivery / COI_SAV), user_missing=True)
    zsav = delivery / "coi.zsav"
    pyreadstat.write_sav(frame, str(zsav), compress=True, column_labels=meta.column_names_to_labels,
                         variable_value_labels=meta.variable_value_labels,
                         missing_ranges=meta.missing_ranges)
    plain, compressed = read_source(delivery / COI_SAV), read_source(zsav)
    assert compressed.format == "SPSS (compressed)"
    pd.testing.assert_frame_equal(plain.frame, compressed.frame)
    assert compressed.variables["spm7_borgere"] == plain.variables["spm7_borgere"]
