"""The command line: every command has --help, errors exit 2 with one clean line, interrupts leave nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kommunelab.cli import main

from .conftest import copy_project, write_notebook


@pytest.mark.parametrize("argv", [["--help"], ["list", "--help"], ["params", "--help"], ["build", "--help"],
                                  ["synthetic", "--help"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0 and "usage: kommunelab" in capsys.readouterr().out


def test_list_and_params(toy_project, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "hello" in out and "-p n=<int>" in out
    assert main(["params", "hello"]) == 0
    assert "allowed: 1 <= int <= 10" in capsys.readouterr().out


def test_errors_are_one_line_and_exit_2(toy_project, capsys):
    assert main(["build", "hello", "-p", "n=99"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "kommunelab: error: report 'hello', parameter 'n': 99 is above the maximum (allowed: 1 <= int <= 10)"
    assert main(["build", "nonesuch"]) == 2
    assert "unknown report(s) nonesuch (known: hello, other)" in capsys.readouterr().err
    assert main(["build", "--formats", "docx"]) == 2
    assert main(["params", "nonesuch"]) == 2


def test_python_dash_m_works(toy_project):
    result = subprocess.run([sys.executable, "-m", "kommunelab", "list"], capture_output=True, text=True,
                            env=os.environ.copy())
    assert result.returncode == 0 and "Other report" in result.stdout


@pytest.mark.slow
def test_sigterm_stops_cleanly_keeping_the_last_good_report(toy_project):
    env = os.environ.copy()
    assert subprocess.run([sys.executable, "-m", "kommunelab", "build", "other"], env=env,
                          capture_output=True).returncode == 0
    html = toy_project / "reports" / "other" / "default.html"
    good = html.read_bytes()
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "import time\ntime.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-m", "kommunelab", "build", "other"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not list((toy_project / "reports" / ".tmp").glob("*/other/default")):
        time.sleep(0.2)
    time.sleep(4)  # the worker has started the kernel, which is now sleeping in the notebook
    workers = _children(proc.pid)
    kernels = [k for w in workers for k in _children(w)]
    assert workers and kernels, "expected running workers and a kernel to interrupt"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    partial = [p for p in (toy_project / "reports").rglob("*") if ".tmp" in p.parts or p.name.endswith((".tmp", ".part"))]
    assert not partial, partial
    assert html.read_bytes() == good  # the last good report is untouched
    time.sleep(2)
    assert not [pid for pid in workers + kernels if _alive(pid)], "workers or kernels outlived the build"


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except OSError:
                pass
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_a_clone_alone_lists_and_builds_from_its_own_snapshot(tmp_path):
    """A clone with nothing beside it and no mirror set: list and params give the municipalities, and the profile
    (which reads the reference snapshot) builds."""
    root = copy_project(tmp_path / "clone")
    env = {k: v for k, v in os.environ.items() if k != "KOMMUNELAB_DATA_MIRROR"}
    env["KOMMUNELAB_ROOT"] = str(root)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "kommunelab", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    listed = run("list")
    assert listed.returncode == 0 and "municipality_profile" in listed.stdout, listed.stderr
    params = run("params", "municipality_profile")
    assert params.returncode == 0 and "Gribskov" in params.stdout, params.stderr
    profile = run("build", "municipality_profile", "-p", "municipality=Gribskov", "--formats", "html", "--jobs", "1")
    assert profile.returncode == 0, profile.stderr
    page = (root / "reports" / "municipality_profile" / "language-da_municipality-270.html").read_text(encoding="utf-8")
    assert "40.971" in page and "Kilde: Danmarks Statistik, FOLK1A" in page  # in the profile's language, Danish
    assert run("data", "verify").returncode == 0


@pytest.mark.slow
def test_a_new_report_scaffold_builds_as_it_stands(project, capsys):
    import subprocess

    from kommunelab.engine.build import BuildOptions, build, exit_code, failure_table

    assert main(["new", "town_hall", "--title", "Town hall figures"]) == 0
    said = capsys.readouterr().out
    assert "notebooks/town_hall.ipynb" in said and "town_hall.my_finding,town_hall," in said
    # The row it prints is valid as it stands: pasted into findings.csv, the table loads and the interval is the
    # one its rule gives; and it names nothing outside the repository.
    row = said.strip().splitlines()[-1]
    with (project / "data" / "published" / "findings.csv").open("a", encoding="utf-8") as fh:
        fh.write(row + "\n")
    from kommunelab import findings, targets

    findings.published_findings.cache_clear()
    pasted = findings.spec("town_hall.my_finding")
    assert (pasted["target_low"], pasted["target_high"]) == targets.interval(pasted["target_rule"],
                                                                              pasted["published_value"])
    assert "shared" not in row and "FACTS" not in row
    assert main(["new", "town_hall"]) == 2  # exists already
    assert main(["new", "Town-Hall"]) == 2  # not an id
    lint = subprocess.run([str(Path(sys.executable).with_name("ruff")), "check", "-q",
                           str(project / "notebooks" / "town_hall.ipynb")], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    outcomes = build(["town_hall"], None, False, BuildOptions(formats=("html",), jobs=1))
    assert exit_code(outcomes) == 0, failure_table(outcomes)
    assert outcomes[0].variant == "language-en"  # a new report is written in English until it is translated
    html = (project / "reports" / "town_hall" / "language-en.html").read_text(encoding="utf-8")
    assert "<title>Town hall figures</title>" in html and 'aria-label="Figure 1. Population' in html
    assert '<a class="kl-ref" href="#kl-population">Figure 1</a>' in html
