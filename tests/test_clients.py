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
from kommunelab.data.sources import Dataset, download_to_cache, locate
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


def _folk1a_answer(mirror: Path, years=(2016, 2017), leave_out=()) -> bytes:
    """A FOLK1A answer in the API's format (codes zero-padded, ';', BOM) built from the mirror's population file."""
    import pandas as pd

    pop = pd.read_csv(mirror / "dk" / "population.csv")
    pop = pop[pop["year"].isin(years) & ~pop["area_code"].isin(leave_out)]
    lines = ["OMRÅDE;TID;INDHOLD"] + [f"{c:03d};{y}K1;{p}" for c, y, p in pop[["area_code", "year", "population"]].values]
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def test_download_fills_the_cache_whole_and_only_when_valid(server, project, monkeypatch, mirror):
    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", "")
    dataset = Dataset("dk/population.csv", data.POPULATION.schema,
                      lambda: statbank.folk1a_population(range(2016, 2018)))
    # A download that leaves out five municipalities is refused whole: nothing is cached.
    monkeypatch.setitem(Handler.answers, "FOLK1A", _folk1a_answer(mirror, leave_out=(147, 151, 153, 155, 157)))
    with pytest.raises(DataError, match="incomplete: year 2016 has 93 of 98 municipalities"):
        locate(dataset)
    assert not (project / "data" / "raw" / "dk").exists()
    monkeypatch.setitem(Handler.answers, "FOLK1A", _folk1a_answer(mirror))
    path, origin = locate(dataset)
    assert origin == "download" and path == project / "data" / "raw" / "dk" / "population.csv"
    frame = data.sources.load(dataset)
    assert len(frame) == 2 * 104 and "from Statistics Denmark FOLK1A" in frame.attrs["provenance"]["retrieved"]
    # An invalid answer writes nothing: AUL01 has a missing value.
    bad = Dataset("dk/unemployment.csv", data.UNEMPLOYMENT.schema,
                  lambda: statbank.aul01_unemployment(range(2016, 2018)))
    with pytest.raises(DataError):
        download_to_cache(bad)
    assert sorted(p.name for p in (project / "data" / "raw" / "dk").iterdir()) == ["population.csv",
                                                                                  "population.csv.source.json"]
