"""The bugs a reviewer found surviving the tests (or caught only by pipeline checks), and blanks counted as "no",
each applied to a scratch copy of the library: the known-answer tests must fail on every one (bench/mutation.py;
`make mutation` runs the whole list against the fast tests and reports the kill rate)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("kommunelab_mutation", REPO / "bench" / "mutation.py")
mutation = sys.modules.setdefault("kommunelab_mutation", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(mutation)

MUTATIONS = mutation.load()
NAMED = [m for m in MUTATIONS if m.named]


def test_every_mutation_names_one_line_that_exists_once():
    assert len({m.id for m in MUTATIONS}) == len(MUTATIONS) and len(NAMED) >= 9
    for m in MUTATIONS:
        text = (REPO / m.file).read_text(encoding="utf-8")
        assert text.count(m.find) == 1 and "\n" not in m.find and m.find != m.replace, m.id


@pytest.mark.slow
@pytest.mark.parametrize("m", NAMED, ids=[m.id for m in NAMED])
def test_the_known_answer_tests_kill_the_named_mutation(m):
    result = mutation.trial(m, ["tests/test_known_answers.py", "tests/test_stats.py"])
    assert result.killed, f"{m.id} ({m.why}) survived the known-answer tests: {result.first_failure}"
