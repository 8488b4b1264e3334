"""The statistics-office clients against a local HTTP server serving answers in the real APIs' formats."""

from __future__ import annotations

import dataclasses
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from kommunelab import data
from kommunelab.data import klass, statbank
from kommunelab.errors import DataError, DownloadError

FIXTURES = Path(__file__).parent / "fixtures" / "api"


class Handler(BaseHTTPRequestHandler):
    requests: list = []
    answers: dict[str, bytes] = {}  # a test's own answer for a table, instead of the fixture file

    def log_message(self, *args):  # keep pytest output quiet
        pass

    def _send(self, status, body: bytes, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.requests.append(("POST", self.path, payload))
        path = FIXTURES / f"statbank_{payload['table'].lower()}.csv"
        if payload["table"] in Handler.answers:
            return self._send(200, Handler.answers[payload["table"]], "text/csv; charset=UTF-8")
        if self.path != "/statbank/v1/data" or not path.is_file():
            return self._send(400, b'{"errorTypeCode":"TABLE-NOT-FOUND"}', "application/json")
        self._send(200, path.read_bytes(), "text/csv; charset=UTF-8")

    def do_GET(self):
        url = urlparse(self.path)
        Handler.requests.append(("GET", url.path, parse_qs(url.query)))
        parts = url.path.split("/")  # /klass/classifications/131/codesAt
        date = parse_qs(url.query).get("date", [""])[0]
        path = FIXTURES / f"klass_{parts[3]}_{date}.json" if len(parts) > 3 else FIXTURES / "none"
        if not path.is_file():
            return self._send(404, b'{"error":"not found"}', "application/json")
        self._send(200, path.read_bytes(), "application/json")


@pytest.fixture
def server(monkeypatch):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setenv("KOMMUNELAB_STATBANK_URL", base + "/statbank/v1")
    monkeypatch.setenv("KOMMUNELAB_KLASS_URL", base + "/klass")
    Handler.requests = []
    yield base
    httpd.shutdown()


def test_folk1a_normalised_like_the_mirror(server):
    df = statbank.folk1a_population(range(2016, 2018))
    method, path, payload = Handler.requests[0]
    assert (method, path, payload["table"], payload["format"], payload["valuePresentation"]) == (
        "POST", "/statbank/v1/data", "FOLK1A", "CSV", "Code")
    assert {"code": "Tid", "values": ["2016K1", "2017K1"]} in payload["variables"]
    # The fixture is a few rows in the API's format: the schema's types and names, not its completeness, apply.
    checked = data.sources.validate_frame(df, dataclasses.replace(data.POPULATION.schema, checks=()), "test")
    rows = checked.set_index(["area_code", "year"])
    assert rows.loc[(101, 2016), "population"] == 591_481 and rows.loc[(0, 2016), "level"] == "country"
    assert rows.loc[(84, 2017), "level"] == "region" and rows.loc[(270, 2017), "level"] == "municipality"
    assert list(checked.columns) == ["area_code", "level", "year", "population"]


def test_aul01_missing_value_is_refused_by_validation(server):
    df = statbank.aul01_unemployment(range(2016, 2018))
    assert set(df["municipality_code"]) == {101, 270}  # the country row is not a municipality
    with pytest.raises(DataError, match="column 'unemployed_persons': empty value"):
        data.sources.validate_frame(df, data.UNEMPLOYMENT.schema, "AUL01")


def test_klass_municipalities_with_county_names(server):
    df = klass.municipalities(years=(2017,))
    checked = data.sources.validate_frame(df, data.NO_MUNICIPALITIES.schema, "KLASS")
    assert checked["municipality_code"].tolist() == ["0101", "0301", "2030"]  # 9999 "Uoppgitt" dropped
    assert checked.set_index("municipality_code").loc["2030", "county_name"] == "Finnmark"
    assert ("GET", "/klass/classifications/131/codesAt", {"date": ["2017-01-01"]}) in Handler.requests


def test_http_errors_say_which_table_and_status(server):
    with pytest.raises(DownloadError, match="KLASS 104 at 2016-01-01: HTTP 404"):
        klass.municipalities(years=(2016,))
    with pytest.raises(DownloadError, match="StatBank NOPE: HTTP 400"):
        statbank.fetch_table("NOPE", {"Tid": ["2016"]})


def test_unreachable_server(monkeypatch):
    monkeypatch.setenv("KOMMUNELAB_STATBANK_URL", "http://127.0.0.1:9/v1")
    with pytest.raises(DownloadError, match="cannot reach"):
        statbank.fetch_table("FOLK1A", {})


def _folk1a_answer(reference: Path, years=range(2008, 2024), leave_out=(), edit=None) -> bytes:
    """A FOLK1A answer in the API's format (codes zero-padded, ';', BOM) built from the snapshot's population file;
    ``edit`` may change the frame first."""
    import pandas as pd

    pop = pd.read_csv(reference / "dk" / "population.csv")
    pop = pop[pop["year"].isin(years) & ~pop["area_code"].isin(leave_out)]
    if edit:
        pop = edit(pop)
    lines = ["OMRÅDE;TID;INDHOLD"] + [f"{c:03d};{y}K1;{p}" for c, y, p in pop[["area_code", "year", "population"]].values]
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def _revised(pop):
    """Gribskov 2016 revised by one inhabitant, and a new year (2024, as 2023)."""
    import pandas as pd

    pop = pop.copy()
    pop.loc[(pop["area_code"].isin([270, 84, 0])) & (pop["year"] == 2016), "population"] += 1
    return pd.concat([pop, pop[pop["year"] == 2023].assign(year=2024)])


def _snapshot_state(project: Path) -> dict[str, bytes]:
    folder = project / "data" / "reference"
    return {p.name: p.read_bytes() for p in (folder / "dk" / "population.csv", folder / "SHA256SUMS",
                                              folder / "datapackage.json")}


def test_data_update_shows_a_diff_and_writes_only_when_asked(server, project, monkeypatch, reference, capsys):
    from kommunelab.cli import main

    monkeypatch.setitem(Handler.answers, "FOLK1A", _folk1a_answer(reference, range(2008, 2024), edit=_revised))
    before = _snapshot_state(project)
    assert main(["data", "update", "population"]) == 0
    out = capsys.readouterr().out
    assert "population (dk/population.csv): 1,664 -> 1,768 rows; 104 added, 0 removed, 3 changed" in out
    assert "new years: 2024" in out and "area_code 270, year 2016: population 41107 -> 41108 (+1)" in out
    assert "nothing was written" in out and _snapshot_state(project) == before
    assert main(["data", "update", "population", "--write"]) == 0
    after = _snapshot_state(project)
    assert all(after[name] != before[name] for name in before)
    from kommunelab.data.update import verify

    assert verify(project) == []
    pop = data.population(year=2016).set_index("area_code")["population"]
    assert pop[270] == 41_108 and 2024 in set(data.population()["year"])
    assert b"kommunelab data update population" in after["datapackage.json"]


def test_data_update_refuses_an_incomplete_download_and_writes_nothing(server, project, reference, monkeypatch, capsys):
    from kommunelab.cli import main

    monkeypatch.setitem(Handler.answers, "FOLK1A", _folk1a_answer(reference, leave_out=(147, 151, 153, 155, 157)))
    before = _snapshot_state(project)
    assert main(["data", "update", "population", "--write"]) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "incomplete: year 2008 has 93 of 98 municipalities" in err
    assert "nothing was written" in err and _snapshot_state(project) == before


def test_data_update_without_a_network_is_one_line_and_exit_3(project, monkeypatch, capsys):
    from kommunelab.cli import main

    monkeypatch.setenv("KOMMUNELAB_STATBANK_URL", "http://127.0.0.1:9/v1")  # nothing listens: refused at once
    before = _snapshot_state(project)
    assert main(["data", "update", "population"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kommunelab: population: StatBank FOLK1A: cannot reach") and \
        err[0].endswith("nothing was written")
    assert _snapshot_state(project) == before


def test_data_update_names_the_source_of_a_table_without_a_route(project, capsys):
    from kommunelab.cli import main

    assert main(["data", "update", "income"]) == 0
    out = capsys.readouterr().out
    assert "income (dk/income.csv): no verified download route" in out and "https://www.statbank.dk/INDKP101" in out
    assert main(["data", "update", "nonsense"]) == 2
