"""House number formats (Babel) and the synthetic stand-ins' determinism."""

from __future__ import annotations

from pathlib import Path

import pytest

from kommunelab import fmt, synthetic
from kommunelab.survey import load_survey

REPO = Path(__file__).resolve().parents[1]


def test_danish_and_english_number_formats():
    assert fmt.number(1234567.891, 1, "da") == "1.234.567,9"
    assert fmt.number(1234567.891, 1, "en") == "1,234,567.9"
    assert fmt.percent(56, locale="da") == "56 pct." and fmt.percent(56.25, 1, "en") == "56.2%"
    assert fmt.dkk(256e6, "da") == "256,0 mio. kr." and fmt.dkk(3.8e9, "en") == "DKK 3.8 billion"
    assert fmt.points(0.5, locale="da") == "0,5 procentpoint"
    assert fmt.ordinal(2) == "2nd" and fmt.ordinal(11) == "11th" and fmt.ordinal(2, "da") == "2."
    with pytest.raises(ValueError, match="locale must be one of"):
        fmt.number(1, locale="xx")


@pytest.mark.slow
def test_stand_ins_regenerate_identically(tmp_path, project):
    written = synthetic.write_all(tmp_path)
    for path in written:
        committed = REPO / "data" / "synthetic" / path.name
        assert committed.is_file(), f"{path.name} is not committed; run `make synthetic`"
        assert path.read_bytes() == committed.read_bytes(), f"{path.name} differs from a fresh regeneration"


def test_stand_ins_have_the_published_sizes(project):
    assert len(load_survey("coi_workplaces")) == 2362
    assert len(load_survey("ks_units")) == 1786
    heads = load_survey("kora_heads")
    assert len(heads) == 838 and heads["responded"].sum() == round(0.53 * 838)
    assert heads["municipality_code"].nunique() == 98
    assert load_survey("kl_collaborations").attrs["synthetic"] is True
