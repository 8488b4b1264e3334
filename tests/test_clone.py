"""A fresh clone is the whole project: it knows its revision on the first build, and says how to cite it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.slow
def test_the_first_build_of_a_fresh_clone_records_the_git_hash(tmp_path):
    if not (REPO / ".git").exists():
        pytest.skip("not run from a git checkout")  # an sdist or an exported tree has no revision to find
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    # as `make setup` leaves it: the notebooks' clean filter installed, so the first `git status` runs it on each
    nbstripout = str(Path(sys.executable).with_name("nbstripout"))
    subprocess.run([nbstripout, "--install", "--attributes", ".gitattributes"], cwd=clone, check=True)
    _git("checkout", "--", ".gitattributes", cwd=clone)
    head = _git("rev-parse", "--short", "HEAD", cwd=clone)
    env = {k: v for k, v in os.environ.items() if k not in ("KOMMUNELAB_DATA_MIRROR", "KOMMUNELAB_GIT_REVISION")}
    env["KOMMUNELAB_ROOT"] = str(clone)
    built = subprocess.run([sys.executable, "-m", "kommunelab", "build", "municipality_profile", "--formats", "html",
                            "--jobs", "1", "--language", "en"], env=env, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    state = json.loads((clone / "reports" / "build.json").read_text(encoding="utf-8"))
    assert state["git_revision"] == head
    page = (clone / "reports" / "municipality_profile" / "language-en_municipality-270.html").read_text(encoding="utf-8")
    assert f'git revision <code translate="no">{head}</code>' in page and "unknown" not in page
    assert f'git revision <span translate="no">{head}</span>, built ' in page  # how to cite
    assert "It rests on: Statistics Denmark" in page
    index = (clone / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'id="cite"' in index and f'git revision <code translate="no">{head}</code>' in index


def test_the_licence_and_citation_files_are_there():
    import yaml

    assert "MIT License" in (REPO / "LICENSE").read_text(encoding="utf-8")
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "MIT" and citation["title"]
    import tomllib

    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"] == "MIT"
