"""Faults, incomplete data and hostile text: nothing lost, nothing wrong published, nothing executed."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from kommunelab import data
from kommunelab.cli import main
from kommunelab.engine.build import BuildOptions, build, exit_code, failure_table
from kommunelab.engine.publish.lock import BuildLocked, build_lock
from kommunelab.errors import DataError
from kommunelab.i18n import moment
from kommunelab.provenance import sha256_file
from kommunelab.records import BuildRecord, Failure, Outcome

from .conftest import a_finding, write_notebook

HTML_ONLY = BuildOptions(formats=("html",))


# ---- escaping ----------------------------------------------------------------------------------------------------
def test_the_index_escapes_everything_it_shows():
    from kommunelab.engine.publish.index import render_index

    hostile = "<script>alert(1)</script><img src=http://example.org/x>"
    finding = a_finding(statement=hostile, published_text=hostile, value_text=hostile, status="differs",
                        evidence="microdata", facts_id=hostile)
    failed = Outcome(report="r", variant="v", title=hostile, params={"data_dir": hostile}, status="failed",
                     failure=Failure(stage="execute", exception=hostile, cell=1, notebook=hostile))
    shown = Outcome(report="r", variant="w", title=hostile, params={}, status="built", findings=(finding,))
    page = render_index(BuildRecord(generated="now", git_revision="abc", variants=(failed, shown)))
    assert "<script>alert" not in page and "<img src=http" not in page and "&lt;script&gt;" in page


def test_report_tables_escape_their_cells_and_have_stable_ids():
    from kommunelab.report import table

    frame = pd.DataFrame({"Municipality": ["<script>alert(1)</script>", "Gribskov"], "<b>n</b>": [1, 2]})
    page = table(frame).to_html()
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>n</b>" not in page
    assert page == table(frame.copy()).to_html()  # the same data give the same table id


def test_notebooks_show_tables_only_through_the_escaping_helper():
    for path in (Path(__file__).parents[1] / "notebooks").glob("*.ipynb"):
        assert ".style" not in path.read_text(encoding="utf-8"), f"{path.name}: use kommunelab.report.table()"


# ---- complete data or none ---------------------------------------------------------------------------------------
def _scratch_mirror(reference: Path, folder: Path, edit) -> Path:
    import shutil

    shutil.copytree(reference, folder)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    target = folder / "dk" / "population.csv"
    edit(target)
    sums = folder / "SHA256SUMS"
    lines = [f"{sha256_file(target)}  dk/population.csv" if line.endswith("dk/population.csv") else line
             for line in sums.read_text(encoding="utf-8").splitlines()]
    sums.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_a_truncated_population_file_is_refused(project, reference, tmp_path, monkeypatch):
    def cut(path):  # cut at a line boundary, as a broken transfer would: checksums regenerated, the schema still holds
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(lines[: len(lines) * 2 // 3]), encoding="utf-8")

    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", str(_scratch_mirror(reference, tmp_path / "cut", cut)))
    with pytest.raises(DataError, match=r"population.csv.*incomplete: year \d{4} has \d+ of 98 municipalities"):
        data.population()


def test_a_population_file_that_does_not_add_up_is_refused(project, reference, tmp_path, monkeypatch):
    def double_copenhagen(path):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("101,municipality,2016,591481", "101,municipality,2016,1182962"), encoding="utf-8")

    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", str(_scratch_mirror(reference, tmp_path / "odd", double_copenhagen)))
    with pytest.raises(DataError, match="municipalities of 2016 sum to"):
        data.population()


# ---- the lock ----------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_second_build_refuses_at_once_or_waits(tmp_path):
    root = tmp_path
    with build_lock(root, started="2026-01-01T00:00:00+00:00"):
        with pytest.raises(BuildLocked, match=rf"PID {os.getpid()}, started 2026-01-01T00:00:00\+00:00"):
            with build_lock(root):
                pass
    held = threading.Event()

    def hold():
        with build_lock(root, started="first"):
            held.set()
            time.sleep(1.5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    start = time.monotonic()
    with build_lock(root, wait=True, poll=0.1):
        waited = time.monotonic() - start
    thread.join()
    assert waited > 0.5


def test_a_stale_lock_left_by_a_killed_build_is_taken_over(tmp_path):
    (tmp_path / "reports" / ".tmp" / "12345").mkdir(parents=True)
    (tmp_path / "reports" / ".build.lock").write_text(json.dumps({"pid": 999999, "started": "x", "command": "y"}))
    with build_lock(tmp_path, started="now"):
        info = json.loads((tmp_path / "reports" / ".build.lock").read_text())
        assert info["pid"] == os.getpid() and not (tmp_path / "reports" / ".tmp").exists()


def test_the_cli_refuses_a_second_build_with_exit_2(toy_project, capsys):
    with build_lock(toy_project, started="earlier"):
        assert main(["build", "hello", "--formats", "html"]) == 2
    assert "another build is running" in capsys.readouterr().err


# ---- no writes through links -------------------------------------------------------------------------------------
def _victim(tmp_path) -> tuple[Path, bytes]:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    return victim, victim.read_bytes()


@pytest.mark.slow
def test_a_planted_symlink_lock_is_refused_and_its_target_unchanged(toy_project, tmp_path, capsys):
    assert main(["build", "hello", "--formats", "html"]) == 0  # a no-op build afterwards must refuse too
    assert main(["build", "hello", "-p", "word=hallo", "--formats", "html"]) == 0  # and a prune with work to do
    victim, before = _victim(tmp_path)
    lock = toy_project / "reports" / ".build.lock"
    lock.unlink()
    lock.symlink_to(victim)
    capsys.readouterr()
    for argv in (["build", "hello", "--formats", "html"], ["prune", "--yes"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert ".build.lock is a symbolic link" in err and len(err.strip().splitlines()) == 1
    assert victim.read_bytes() == before


@pytest.mark.slow
def test_links_and_files_planted_in_reports_are_never_written_through(toy_project, tmp_path):
    victim, before = _victim(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    reports = toy_project / "reports"
    reports.mkdir()
    (reports / ".tmp").symlink_to(elsewhere)  # the build's scratch folder, a link to elsewhere
    (reports / "hello").symlink_to(elsewhere)  # a report's folder, a link to elsewhere
    (reports / ".build.json.99999.part").symlink_to(victim)  # a stray temporary name, a link to a file
    outcomes = build(["hello", "other"], None, False, HTML_ONLY, out=io.StringIO())
    by = {o.name: o for o in outcomes}
    assert by["other/default"].status == "built"
    failure = by["hello/default"].failure
    assert failure.stage == "publish" and "is a symbolic link" in failure.message
    assert list(elsewhere.iterdir()) == [] and victim.read_bytes() == before
    assert not (reports / ".tmp").exists() and not (reports / ".build.json.99999.part").is_symlink()
    (reports / ".tmp").write_text("a file where the build's folder goes")  # a regular file named reports/.tmp
    (reports / "hello").unlink()
    assert [o.status for o in build(["hello"], None, False, HTML_ONLY, out=io.StringIO())] == ["built"]


@pytest.mark.slow
def test_prune_keeps_the_builds_own_files_and_removes_a_planted_link_not_its_target(toy_project, tmp_path, capsys):
    assert main(["build", "--formats", "html"]) == 0
    (toy_project / "reports" / "drift.json").write_text('{"generated": "earlier", "changes": []}')
    victim, before = _victim(tmp_path)
    (toy_project / "reports" / "hello" / "planted.html").symlink_to(victim)
    assert main(["prune", "--yes"]) == 0
    reports = toy_project / "reports"
    assert (reports / "drift.json").is_file() and (reports / "build.json").is_file()
    assert not (reports / "hello" / "planted.html").is_symlink() and victim.read_bytes() == before


# ---- publishing is one step --------------------------------------------------------------------------------------
RECORD = ("build.json", "drift.json", "findings.json", "index.html")


def _record_set(toy_project) -> str:
    """The stamp every file of the build's record carries, after checking that they agree with one another."""
    folder = toy_project / "reports"
    state = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    findings = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    drift = json.loads((folder / "drift.json").read_text(encoding="utf-8"))
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert f"Built {moment(state['generated'], 'en')} from" in index and drift["generated"] == state["generated"]
    assert findings == [{"report": r["report"], "variant": r["variant"], **f} for r in state["variants"]
                        for f in r["findings"]]
    assert not list(folder.glob(".*.next")) and not (folder / ".switch.json").exists()
    return state["generated"]


def _stamp(monkeypatch, epoch: int) -> str:
    from datetime import UTC, datetime

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _on_record_rename(monkeypatch, k: int, action):
    """Call ``action`` when the k-th file of the record is renamed into place."""
    real, seen = os.replace, []

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name in RECORD and str(src).endswith(".next"):
            seen.append(dst)
            if len(seen) == k:
                action()
        return real(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_sigterm_at_any_publish_step_leaves_the_whole_new_record(toy_project, monkeypatch, k):
    _stamp(monkeypatch, 1_700_000_000)
    assert exit_code(build(["hello"], None, False, HTML_ONLY, out=io.StringIO())) == 0
    new = _stamp(monkeypatch, 1_800_000_000)
    _on_record_rename(monkeypatch, k, lambda: os.kill(os.getpid(), signal.SIGTERM))
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):  # held until the record was in place, then reported
        build(["hello"], None, False, BuildOptions(formats=("html",), force=True), out=out)
    assert _record_set(toy_project) == new and "interrupted after the build had finished" in out.getvalue()


@pytest.mark.slow
def test_a_build_killed_while_switching_its_record_is_completed_by_the_next(toy_project, monkeypatch, capsys):
    _stamp(monkeypatch, 1_700_000_000)
    assert exit_code(build(["hello"], None, False, HTML_ONLY, out=io.StringIO())) == 0
    new = _stamp(monkeypatch, 1_800_000_000)

    def die():
        raise SystemExit("killed")  # as SIGKILL would: nothing after this line of the build runs
    _on_record_rename(monkeypatch, 2, die)
    with pytest.raises(SystemExit):
        build(["hello"], None, False, BuildOptions(formats=("html",), force=True), out=io.StringIO())
    assert (toy_project / "reports" / ".switch.json").exists()  # half switched: the journal says what is left
    monkeypatch.undo()
    monkeypatch.setenv("KOMMUNELAB_ROOT", str(toy_project))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")
    build(["hello"], None, False, HTML_ONLY, out=io.StringIO())  # nothing to build; it completes the record first
    assert "completed the record of an interrupted build" in capsys.readouterr().err
    assert _record_set(toy_project) == new


# ---- numbers that mean what they say -----------------------------------------------------------------------------
def _area_of_ringkobing_skjern(text: str):
    def edit(path):
        path.write_text(path.read_text(encoding="utf-8").replace(",1470.5\n", f",{text}\n"), encoding="utf-8")
    return edit


@pytest.mark.parametrize("text, message", [
    ("1.470", r"'1.470' looks like a number with a Danish thousands separator \(1470\)"),
    ('"1470,5"', r"'1470,5' has a decimal comma"),
    ('"1.470,5"', r"'1.470,5' has a decimal comma"),
    ("-3", r"-3 is outside what area_km2 can be \(1 to 43000 km²\)"),
    ("inf", r"'inf' is not a finite number"),
])
def test_numbers_written_the_danish_way_or_out_of_range_are_refused(project, text, message):
    from .conftest import edit_snapshot

    edit_snapshot(project / "data" / "reference", "dk/municipalities.csv", _area_of_ringkobing_skjern(text))
    with pytest.raises(DataError, match=message):
        data.municipalities()


def _di_input(tmp_path, edit=lambda rows: rows, header_only=False) -> Path:
    codes = list(data.municipalities()["municipality_code"])
    rows = edit([[str(c), "5", "50000000", "30"] for c in codes])
    path = tmp_path / "di_input.csv"
    path.write_text("municipality_code,main_account,spending_dkk,iku_pct\n"
                    + ("" if header_only else "".join(",".join(r) + "\n" for r in rows)), encoding="utf-8")
    (tmp_path / "di_input.source.toml").write_text('source = "an invented file"\nretrieved = 2026-01-31\n',
                                                   encoding="utf-8")
    return path


@pytest.mark.parametrize("descriptor, message", [
    (None, r"no di_input.source.toml beside it saying where its figures come from"),
    ('source = "FILL IN: who"\nretrieved = 2026-01-31\n', r"'source' must say who published the figures"),
    ('source = "noegletal.dk"\n', r"'retrieved' must be a date"),
    ('source = "noegletal.dk"\nretrieved = 2999-01-01\n', r"a date in the future"),
    ('source = "noegletal.dk"\nretrieved = 2026-01-31\nyear = "last year"\n', r"'year' must be the year"),
    ('source = "noegletal.dk\n', r"not valid TOML"),
])
def test_a_di_input_without_a_declared_source_is_refused_before_a_kernel_starts(project, tmp_path, capsys,
                                                                               descriptor, message):
    """A user's municipal file is user data: it must say where its figures come from and when they were retrieved
    (the report shows it); it is never public data by assertion."""
    path = _di_input(tmp_path)
    declared = tmp_path / "di_input.source.toml"
    if descriptor is None:
        declared.unlink()
    else:
        declared.write_text(descriptor, encoding="utf-8")
    assert main(["build", "di_outsourcing_savings", "-p", f"municipal_input={path}", "--formats", "html"]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert not (project / "reports" / "di_outsourcing_savings").exists()


def _set(row: int, column: int, value: str):
    def edit(rows):
        rows[row][column] = value
        return rows
    return edit


@pytest.mark.parametrize("edit, header_only, message", [
    (_set(3, 2, "-1000"), False, r"row 5, column 'spending_dkk': -1000 is outside"),
    (_set(3, 3, "150"), False, r"column 'iku_pct': 150 is outside what iku_pct can be \(0 to 100 percent\)"),
    (_set(3, 3, "-20"), False, r"column 'iku_pct': -20 is outside"),
    (_set(3, 3, "inf"), False, r"'inf' is not a finite number"),
    (_set(3, 0, "999"), False, r"999 is outside what municipality_code can be"),
    (_set(3, 0, "102"), False, r"102 is not the code of one of the 98 municipalities"),
    (lambda rows: [r for r in rows if r[0] != "270"], False, r"main account 5 has 97 of 98 municipalities; missing Gribskov"),
    (lambda rows: rows, True, r"no rows: the file has a header and nothing else"),
])
def test_a_di_input_that_cannot_be_right_is_refused_before_a_kernel_starts(project, tmp_path, capsys, edit, header_only,
                                                                         message):
    path = _di_input(tmp_path, edit, header_only)
    assert main(["build", "di_outsourcing_savings", "-p", f"municipal_input={path}", "--formats", "html"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert not (project / "reports" / "di_outsourcing_savings").exists()  # nothing ran, nothing was published


def test_a_number_column_must_say_its_unit():
    from kommunelab.data.schema import Column

    with pytest.raises(ValueError, match="declares its unit"):
        Column("people", "int")
    assert Column("answer", "int", allowed=(0, 1)).unit == ""  # a coded answer has its allowed values instead


# ---- values that mean nothing ------------------------------------------------------------------------------------
def test_a_municipal_input_that_is_not_one_is_refused_before_a_kernel_starts(project, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET_TOKEN=abc123\n", encoding="utf-8")
    assert main(["build", "di_outsourcing_savings", "-p", f"municipal_input={secret}"]) == 2
    assert "parameter 'municipal_input'" in capsys.readouterr().err  # told on the terminal, nothing published
    assert not (project / "reports").exists()



@pytest.mark.parametrize("argv, message", [
    (["--jobs", "0"], "--jobs must be a whole number of at least 1"),
    (["--jobs", "-3"], "--jobs must be a whole number of at least 1"),
    (["--timeout", "0"], "--timeout must be a positive number"),
    (["--timeout", "-1"], "--timeout must be a positive number"),
    (["--timeout", "nan"], "--timeout must be a positive number"),
    (["--formats", ","], "--formats: name at least one format"),
])
def test_meaningless_options_are_refused(toy_project, capsys, argv, message):
    assert main(["build", *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (toy_project / "reports").exists()


# ---- file-system errors ------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC])
def test_a_file_system_error_fails_the_variant_cleanly(toy_project, monkeypatch, code):
    from kommunelab.engine import publish

    assert build(["hello"], None, False, HTML_ONLY, out=io.StringIO())[0].status == "built"
    good = (toy_project / "reports" / "hello" / "default.html").read_bytes()

    real_replace = os.replace
    folder = toy_project / "reports" / "hello"

    def refuse(src, dst):  # the report's folder is read-only, or its disk is full
        if Path(dst).parent == folder:
            raise OSError(code, os.strerror(code), str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", refuse)
    (outcome,) = build(["hello"], None, False, BuildOptions(formats=("html",), force=True), out=io.StringIO())
    assert outcome.status == "failed" and outcome.failure.stage == "publish"
    assert os.strerror(code) in failure_table([outcome])
    assert (toy_project / "reports" / "hello" / "default.html").read_bytes() == good
    empty = [p for p in (toy_project / "reports").rglob("*") if p.is_file() and p.stat().st_size == 0]
    assert not empty and not (toy_project / "reports" / ".tmp").exists()


def test_an_atomic_write_that_fails_leaves_nothing(tmp_path, monkeypatch):
    from kommunelab import paths

    target = tmp_path / "build.json"
    target.write_text("previous")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(paths.os, "fsync", full)
    with pytest.raises(OSError):
        paths.write_atomic(target, "new")
    assert target.read_text() == "previous" and [p.name for p in tmp_path.iterdir()] == ["build.json"]


# ---- limits ------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_cell_that_prints_too_much_fails_its_variant(toy_project):
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "print('x' * 3_000_000)")
    (outcome,) = build(["other"], None, False, BuildOptions(formats=("html",), max_output_mb=1), out=io.StringIO())
    assert outcome.failure.stage == "limit" and outcome.failure.exception == "OutputTooLarge"
    assert "at most 1 MB" in outcome.failure.message and not (toy_project / "reports" / "other" / "default.html").exists()


@pytest.mark.slow
def test_an_endless_print_loop_is_stopped_at_the_cap_and_the_kept_notebook_is_small(toy_project):
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "x = 1",
                   "while True:\n    print('x' * 10_000)")
    started = time.monotonic()
    (outcome,) = build(["other"], None, False, BuildOptions(formats=("html",), max_output_mb=2, timeout=120),
                       out=io.StringIO())
    assert time.monotonic() - started < 60  # stopped at the cap, not at the time limit
    failure = outcome.failure
    assert failure.stage == "limit" and failure.exception == "OutputTooLarge" and failure.cell == 3, failure
    assert "while True" in failure.cell_source and "at most 2 MB" in failure.message
    kept = toy_project / "reports" / "other" / "default.failed.ipynb"
    assert kept.stat().st_size < 3 * 1024 * 1024 and "this one was stopped there" in kept.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_rich_output_past_the_cap_stops_the_cell_too(toy_project):
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False",
                   "from IPython.display import HTML, display\nwhile True:\n    display(HTML('x' * 500_000))")
    (outcome,) = build(["other"], None, False, BuildOptions(formats=("html",), max_output_mb=1, timeout=120),
                       out=io.StringIO())
    assert outcome.failure.exception == "OutputTooLarge" and outcome.failure.cell == 2, outcome.failure
    kept = toy_project / "reports" / "other" / "default.failed.ipynb"
    assert kept.stat().st_size < 2 * 1024 * 1024 and "output stopped here" in kept.read_text(encoding="utf-8")


def test_a_yaml_alias_bomb_is_refused_at_once(toy_project, tmp_path, capsys):
    bomb = tmp_path / "bomb.yaml"
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    bomb.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    assert main(["build", "hello", "-f", str(bomb)]) == 2
    assert time.monotonic() - started < 1
    err = capsys.readouterr().err
    assert "aliases" in err and len(err) < 500


def test_error_messages_quote_a_short_prefix_of_a_long_value(toy_project, capsys):
    assert main(["build", "hello", "-p", "word=" + "x" * 1_000_000]) == 2
    err = capsys.readouterr().err
    assert "parameter 'word'" in err and len(err) < 2_000


@pytest.mark.slow
def test_a_kernel_past_its_memory_cap_fails_its_variant(toy_project):
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False",
                   "import numpy as np\nbig = np.ones(8 * 1024 ** 3 // 8)")
    (outcome,) = build(["other"], None, False, BuildOptions(formats=("html",), kernel_memory_mb=2048),
                       out=io.StringIO())
    assert outcome.failure.stage == "limit" and outcome.failure.exception == "MemoryError"
    assert outcome.failure.cell == 2 and "2048 MB" in outcome.failure.message


# ---- a quiet browser ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_printing_makes_no_network_request(tmp_path, monkeypatch):
    from kommunelab.chromium import PROXY_ENV, ensure_chromium
    from kommunelab.engine.render import close_printer, html_to_pdf

    seen = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():  # a proxy that logs every connection and answers none
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                seen.append(conn.recv(200))
            except OSError:
                seen.append(b"")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    monkeypatch.setenv(PROXY_ENV, f"http://127.0.0.1:{listener.getsockname()[1]}")
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Æbler</h1><p>offline</p></body></html>", encoding="utf-8")
    close_printer()  # a browser this process started before would not use the logging proxy: start its own
    try:
        html_to_pdf(page, tmp_path / "page.pdf", ensure_chromium(install=False))
    finally:
        close_printer()
    time.sleep(2)
    stop.set()
    thread.join(2)
    listener.close()
    assert (tmp_path / "page.pdf").stat().st_size > 0
    # Chromium may open an idle connection to the proxy it is given (in a build, the closed discard port); what
    # counts is that no request is sent on any.
    requests = [r for r in seen if r]
    assert requests == [], f"Chromium made {len(requests)} request(s) while printing: {requests[:3]}"


# ---- clean stops -------------------------------------------------------------------------------------------------
def _processes_matching(text: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if text in cmdline and state != "Z":
                out.append(int(entry))
    return out


@pytest.mark.slow
def test_sigint_while_printing_leaves_no_chromium_and_no_profile(toy_project):
    text = (toy_project / "reports.toml").read_text(encoding="utf-8").replace('formats = ["html"]\n', "", 1)
    (toy_project / "reports.toml").write_text(text, encoding="utf-8")
    # Ctrl-C as a terminal sends it: the build's SIGINT at its default, whatever this test inherited (a shell that
    # starts `make test` in the background ignores SIGINT, and an ignored signal stays ignored across exec)
    proc = subprocess.Popen([sys.executable, "-m", "kommunelab", "build", "hello"], env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    marker = str(toy_project / "reports" / ".tmp")
    deadline = time.time() + 90
    # The worker's Chromium keeps its profile in the build's temporary folder: its command line names it.
    while time.time() < deadline and not [p for p in _processes_matching("chromium") if marker in
                                          Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")]:
        time.sleep(0.02)
    assert time.time() < deadline, "Chromium never started printing"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    time.sleep(2)
    assert not _processes_matching(marker), "Chromium outlived the interrupted build"
    assert not (toy_project / "reports" / ".tmp").exists()


@pytest.mark.slow
def test_after_sigkill_workers_stop_and_the_next_build_cleans_up(toy_project):
    """Only the processes of the build this test starts are looked at: a kernel or a worker of another build on the
    same machine (a shared server, a CI host) neither fails nor satisfies it."""
    from kommunelab.lifetime import alive, descendants

    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "import time\ntime.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-m", "kommunelab", "build", "other", "--formats", "html"],
                            env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def below(text: str) -> list[int]:
        return [pid for pid in descendants(proc.pid) if pid in _processes_matching(text)]

    deadline = time.time() + 60
    # The worker's kernel template and the kernel forked from it (which runs the 60 s cell) share a command line.
    while time.time() < deadline and len(below("kommunelab.kernel")) < 2:
        time.sleep(0.2)
    kernels, workers = below("kommunelab.kernel"), below("multiprocessing.spawn")
    assert len(kernels) >= 2 and workers, "expected a worker, its kernel template and a running kernel"
    time.sleep(1)
    proc.kill()
    proc.wait(10)
    time.sleep(3)
    assert not [pid for pid in kernels if alive(pid)], "a kernel outlived the killed build"
    assert not [pid for pid in workers if alive(pid)], "a worker outlived the killed build"
    assert list((toy_project / "reports" / ".tmp").iterdir())  # the killed build's leftovers ...
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "x = 1")
    outcomes = build(["other"], None, False, HTML_ONLY, out=io.StringIO())
    assert outcomes[0].status == "built" and not (toy_project / "reports" / ".tmp").exists()  # ... are gone


# ---- damaged state is said, not swallowed -----------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("damage", [lambda t: t[: len(t) // 2], lambda t: "not json", lambda t: '{"variants": 7}'])
def test_a_damaged_build_json_is_kept_aside_and_the_last_good_copy_restored(toy_project, capsys, damage):
    assert main(["build", "--formats", "html"]) == 0
    state = toy_project / "reports" / "build.json"
    good = state.read_text(encoding="utf-8")
    state.write_text(damage(good), encoding="utf-8")
    capsys.readouterr()
    assert main(["prune"]) == 2 and main(["build", "--dry-run"]) == 2  # no listing from a damaged record
    assert "build.json is damaged" in capsys.readouterr().err and state.read_text(encoding="utf-8") == damage(good)
    assert main(["build", "--formats", "html"]) == 0  # the build restores the last good copy, and builds nothing
    err = capsys.readouterr().err
    assert "restored the last good copy (2 variant record(s))" in err and "nothing to do" in err
    assert (toy_project / "reports" / "build.json.damaged").read_text(encoding="utf-8") == damage(good)
    assert json.loads(state.read_text(encoding="utf-8"))["variants"] == json.loads(good)["variants"]


@pytest.mark.slow
def test_a_damaged_build_json_without_a_good_copy_is_refused_not_read_as_empty(toy_project, capsys):
    assert main(["build", "--formats", "html"]) == 0
    (toy_project / "reports" / ".build.json.bak").unlink()
    (toy_project / "reports" / "build.json").write_text("{", encoding="utf-8")
    capsys.readouterr()
    assert main(["build", "--formats", "html"]) == 2 and main(["prune", "--yes"]) == 2
    assert "no good copy to restore. Move it aside" in capsys.readouterr().err
    assert (toy_project / "reports" / "hello" / "default.html").is_file()  # nothing was pruned


def test_a_retrieval_date_in_the_future_is_an_error(project):
    path = project / "data" / "reference" / "datapackage.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"retrieved": "2026-11-29"', '"retrieved": "2031-01-01"',
                                                             1), encoding="utf-8")
    with pytest.raises(DataError, match="retrieved 2031-01-01, a date in the future"):
        data.municipalities()


@pytest.mark.parametrize("title", ['The "best" report', "Kommunernes \\ rapport'", 'x"\n[reports.evil]'])
def test_kommunelab_new_writes_valid_toml_whatever_the_title(project, capsys, title):
    import tomllib

    code = main(["new", "town_hall", "--title", title])
    manifest = tomllib.loads((project / "reports.toml").read_text(encoding="utf-8"))
    if "\n" in title:
        assert code == 2 and "town_hall" not in manifest["reports"]  # a title is one line
    else:
        assert code == 0 and manifest["reports"]["town_hall"]["title"] == title
    assert "evil" not in manifest["reports"] and main(["list"]) == 0


# ---- survey descriptors stay in their folder ----------------------------------------------------------------------
def _package(folder: Path, path_of_table) -> Path:
    """A survey folder with the stand-in's COI table renamed (so not marked synthetic by its name) and a descriptor
    whose coi_workplaces resource path is ``path_of_table``."""
    import shutil

    from kommunelab.survey import descriptor

    folder.mkdir(parents=True)
    shutil.copy(Path(__file__).parents[1] / "data" / "synthetic" / "coi_workplaces.csv", folder / "coi.csv")
    text = descriptor({"coi_workplaces": path_of_table}, name="x", title="Survey", sources=[{"title": "COI"}],
                      licenses=[{"name": "terms"}])
    (folder / "datapackage.json").write_text(json.dumps(text), encoding="utf-8")
    return folder


@pytest.mark.parametrize("where", ["../outside.csv", "/etc/passwd", "{outside}", "https://example.org/coi.csv",
                                   "linked.csv", "sub/../../outside.csv"])
def test_a_descriptor_resource_outside_its_folder_is_refused(project, tmp_path, capsys, where):
    import shutil

    outside = tmp_path / "outside.csv"
    shutil.copy(Path(__file__).parents[1] / "data" / "synthetic" / "coi_workplaces.csv", outside)
    folder = _package(tmp_path / "survey", where.format(outside=outside))
    (folder / "linked.csv").symlink_to(outside)  # a valid table, but outside the folder: never the analyst's data
    assert main(["build", "coi_citizens_volunteers", "-p", f"data_dir={folder}", "--formats", "html"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "must be a relative path inside" in err, err


@pytest.mark.parametrize("text", ['["not", "a", "package"]', '{"name": "x", "title": "t", "sources": ["s"], '
                                  '"licenses": ["l"], "resources": {"coi_workplaces": "coi.csv"}}',
                                  '{"name": "x", "title": "t", "sources": ["s"], "licenses": ["l"], '
                                  '"resources": ["coi.csv"]}',
                                  '{"name": "x", "title": "t", "sources": ["s"], "licenses": ["l"], '
                                  '"resources": [{"name": "coi_workplaces", "path": 7}]}',
                                  '{"name": "x", "title": ["t"], "sources": "s", "licenses": ["l"], "resources": []}',
                                  "\u00ff\u00fe not JSON"])
def test_a_malformed_descriptor_is_one_line_and_exit_2(project, tmp_path, capsys, text):
    folder = _package(tmp_path / "survey", "coi.csv")
    (folder / "datapackage.json").write_text(text, encoding="latin-1" if "not JSON" in text else "utf-8")
    assert main(["build", "coi_citizens_volunteers", "-p", f"data_dir={folder}", "--formats", "html"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "datapackage.json" in err and "Traceback" not in err, err


# ---- errors are lines with the documented exit codes ------------------------------------------------------------
@pytest.mark.parametrize("argv, code, message", [
    (["build", "hello", "--kernel-memory-mb", "1"], 2, "a kernel needs about 200 MB to start"),
    (["build", "hello", "-f", "/nonexistent/" + "x" * 300 + ".yaml"], 2, "-f /nonexistent/"),
])
def test_bad_options_are_one_line_with_exit_2(toy_project, capsys, argv, code, message):
    assert main(argv) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_a_path_longer_than_the_file_system_allows_is_a_bad_parameter(project, capsys):
    for name in ("data_dir", "municipal_input"):
        report = "kl_collaborations" if name == "data_dir" else "di_outsourcing_savings"
        assert main(["build", report, "-p", f"{name}=/tmp/{'x' * 300}/table.csv", "--formats", "html"]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and f"parameter {name!r}" in err and "Traceback" not in err, err


@pytest.mark.parametrize("epoch", ["99999999999999999", "-5", "tomorrow"])
def test_source_date_epoch_out_of_range_is_refused(toy_project, monkeypatch, capsys, epoch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    assert main(["build", "hello", "--formats", "html"]) == 2
    assert "SOURCE_DATE_EPOCH" in capsys.readouterr().err


@pytest.mark.slow
def test_a_read_only_reports_folder_is_exit_4_even_for_a_no_op_build(toy_project, monkeypatch, capsys):
    assert main(["build", "--formats", "html"]) == 0
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if str(path).endswith(".build.lock"):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, "open", read_only)
    capsys.readouterr()
    assert main(["build", "--formats", "html"]) == 4
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Read-only file system" in err and "must be writable" in err


@pytest.mark.slow
def test_a_full_disk_at_the_record_step_is_exit_4_and_says_what_is_not_recorded(toy_project, monkeypatch, capsys):
    def full(folder, contents):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("kommunelab.engine.publish.write_set", full)
    assert main(["build", "hello", "--formats", "html"]) == 4
    err = capsys.readouterr().err
    assert "No space left on device" in err and "not recorded" in err and "builds them again" in err


@pytest.mark.slow
def test_a_full_disk_while_the_executed_notebook_is_written_is_a_clear_failure(toy_project, monkeypatch, tmp_path):
    import papermill.engines
    import papermill.execute

    from kommunelab.engine.run.execute import execute_notebook

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(papermill.engines, "write_ipynb", full)  # where a stopped run is written
    monkeypatch.setattr(papermill.execute, "write_ipynb", full)  # where a finished one is
    failure = execute_notebook(toy_project / "notebooks" / "other.ipynb", tmp_path / "out.ipynb", {"fail": False},
                               cwd=tmp_path)
    assert failure is not None and failure.exception == "OSError" and "No space left on device" in failure.message


def test_a_failure_without_a_message_says_what_it_means():
    from kommunelab.engine.run import WHY

    assert "scheduler" in WHY["CancelledError"] and "died" in WHY["BrokenProcessPool"]


def test_output_into_a_closed_pipe_ends_quietly(toy_project):
    listing = subprocess.run(f"{sys.executable} -m kommunelab list | head -1", shell=True, capture_output=True,
                             text=True, env={**os.environ, "KOMMUNELAB_ROOT": str(toy_project)})
    assert listing.stdout.strip() == "hello" and "Error" not in listing.stderr, listing.stderr


def test_a_kernel_that_dies_before_answering_is_started_once_more_but_no_cell_runs_twice(monkeypatch, tmp_path):
    from kommunelab.engine.run import execute

    calls = []

    def once(*args):
        calls.append(args)
        if len(calls) == 1:
            return execute.ExecutionFailure("RuntimeError", "Kernel died before replying to kernel_info")
        return None
    monkeypatch.setattr(execute, "_execute_once", once)
    assert execute.execute_notebook(tmp_path / "a.ipynb", tmp_path / "b.ipynb", {}, tmp_path) is None
    assert len(calls) == 2
    calls.clear()
    monkeypatch.setattr(execute, "_execute_once", lambda *a: calls.append(a) or execute.ExecutionFailure(
        "DeadKernelError", "Kernel died before replying to kernel_info", cell=3))
    assert execute.execute_notebook(tmp_path / "a.ipynb", tmp_path / "b.ipynb", {}, tmp_path).cell == 3
    assert len(calls) == 1  # the kernel died in a cell: that cell is not run again


def test_a_failure_repeated_across_variants_is_listed_once(toy_project):
    failure = Failure(stage="execute", exception="DataError", message="dk/population.csv: checksum mismatch", cell=1,
                      cell_source="pop = data.population()")
    outcomes = [Outcome(report="profile", variant=f"municipality-{c}", title="t", params={"municipality": str(c)},
                        status="failed", failure=failure) for c in range(101, 199)]
    outcomes.append(Outcome(report="other", variant="default", title="t", params={}, status="failed",
                            failure=Failure(stage="limit", exception="TimeLimitExceeded", message="ran past 10 s")))
    table = failure_table(outcomes)
    assert table.count("checksum mismatch") == 1 and "98 variants of profile [execute, cell 1], the same failure" in table
    assert "and 92 more" in table and "- other/default [limit]" in table


@pytest.mark.slow
def test_an_html_only_rebuild_leaves_no_older_pdf_beside_the_new_html(toy_project):
    text = (toy_project / "reports.toml").read_text(encoding="utf-8").replace('formats = ["html"]\n', "", 1)
    (toy_project / "reports.toml").write_text(text, encoding="utf-8")
    folder = toy_project / "reports" / "hello"
    build(["hello"], None, False, BuildOptions(), out=io.StringIO())
    assert (folder / "default.pdf").is_file()
    (outcome,) = build(["hello"], None, False, BuildOptions(formats=("html",), force=True), out=io.StringIO())
    assert outcome.status == "built" and "pdf" not in outcome.outputs and not (folder / "default.pdf").exists()


def test_unknown_names_get_a_did_you_mean(toy_project, capsys):
    assert main(["build", "helo"]) == 2 and "did you mean hello?" in capsys.readouterr().err
    assert main(["build", "hello", "-p", "wrod=hej"]) == 2 and "did you mean word?" in capsys.readouterr().err


def test_make_setup_holds_a_lock():
    makefile = (Path(__file__).parents[1] / "Makefile").read_text(encoding="utf-8")
    assert "flock $(VENV).lock" in makefile


# ---- nothing outlives a build -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_setsid_grandchild_of_a_notebook_does_not_outlive_its_variant(toy_project, tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", f"""import os, time
if os.fork() == 0:  # a child that leaves its session and forks a grandchild that would live on, then exits
    os.setsid()
    if os.fork() == 0:
        open({str(pidfile)!r}, "w").write(str(os.getpid()))
        time.sleep(300)
    os._exit(0)
while not os.path.exists({str(pidfile)!r}):
    time.sleep(0.05)
time.sleep(0.2)""")
    (outcome,) = build(["other"], None, False, HTML_ONLY, out=io.StringIO())
    assert outcome.status == "built", outcome.failure
    grandchild = int(pidfile.read_text())
    from kommunelab.lifetime import alive

    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(grandchild)


@pytest.mark.slow
@pytest.mark.parametrize("fresh", [False, True])
def test_a_killed_build_leaves_no_kernel_connection_file_outside_its_folder(toy_project, tmp_path, fresh):
    """Connection files hold the kernel's signing key: never in /tmp or the user's runtime folder, where a killed
    build would leave them, but in the build's temporary folder, which the next build removes."""
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "import time\ntime.sleep(120)")
    tmp, runtime = tmp_path / "tmp", tmp_path / "home-runtime"
    tmp.mkdir()
    env = {**os.environ, "KOMMUNELAB_ROOT": str(toy_project), "TMPDIR": str(tmp), "JUPYTER_RUNTIME_DIR": str(runtime)}
    argv = [sys.executable, "-m", "kommunelab", "build", "other", "--formats", "html", "--jobs", "1"]
    build_process = subprocess.Popen(argv + (["--fresh-kernels"] if fresh else []), env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list((toy_project / "reports").glob(".tmp/*/runtime/kernel-*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list((toy_project / "reports").glob(".tmp/*/runtime/kernel-*.json")), "no kernel started in the build"
    build_process.kill()
    build_process.wait()
    time.sleep(1)
    assert not list(tmp.rglob("*.json")) and not list(runtime.rglob("*.json"))
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "x = 1")
    assert exit_code(build(["other"], None, False, HTML_ONLY, out=io.StringIO())) == 0
    assert not (toy_project / "reports" / ".tmp").exists()  # the next build took the killed one's folder away


def test_a_dask_workers_scratch_folder_goes_with_it(tmp_path, monkeypatch):
    import tempfile

    from kommunelab.engine.run import remote

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"{remote.SCRATCH_PREFIX}{dead.pid}-abc"  # a killed worker's folder
    stale.mkdir()
    mine = tmp_path / f"{remote.SCRATCH_PREFIX}{os.getpid()}-xyz"  # a live worker's folder
    mine.mkdir()
    monkeypatch.setattr(remote, "_SCRATCH", None)
    scratch = remote._scratch()
    assert not stale.exists() and mine.exists() and scratch.parent == tmp_path
    remote._remove_scratch()
    assert not scratch.exists()


def test_incomplete_microdata_names_the_missing_category():
    from kommunelab import stats

    shares = stats.category_shares(pd.Series(["other", "operations and service delivery", None]))
    with pytest.raises(DataError, match=r"kl_collaborations.csv, column 'main_purpose': no answer is 'innovation and "
                                        r"development'.*found: operations and service delivery, other"):
        stats.category(shares, "innovation and development", "kl_collaborations.csv, column 'main_purpose'")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_infinities_are_refused_for_numbers(project, value):
    from kommunelab.errors import ParameterError
    from kommunelab.manifest import load_manifest, validate_parameters

    report = load_manifest()["di_outsourcing_savings"]
    for name in ("savings_rate", "target_iku"):
        with pytest.raises(ParameterError, match=rf"'{name}': '{value}' is not a finite number"):
            validate_parameters(report, {name: value})


def test_pdf_structure_ids_are_renumbered_by_rank():
    """Chromium takes a tagged PDF's element ids from DOM node ids, which shift from one print to the next."""
    from kommunelab.engine.render import stable_node_ids

    one = b"<</ID (node00000059)>> <</ID (node00000061)>> /Names [(node00000059) 1 0 R (node00000061) 2 0 R]"
    two = one.replace(b"00000059", b"00000060").replace(b"00000061", b"00000062")
    assert stable_node_ids(one) == stable_node_ids(two) != one
    assert len(stable_node_ids(one)) == len(one) and b"(node00000001)" in stable_node_ids(one)
