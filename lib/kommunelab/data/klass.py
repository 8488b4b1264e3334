"""Client for Statistics Norway's KLASS API (https://data.ssb.no/api/klass/v1): municipalities (classification
131) valid on 1 January of each year, with county names from the county classification (104).

GET /classifications/{id}/codesAt?date=YYYY-MM-DD answers JSON {"codes": [{"code", "name", ...}]}.
Set $KOMMUNELAB_KLASS_URL to use another server (the tests use one on 127.0.0.1).
"""

from __future__ import annotations

import os

import pandas as pd
import requests

from ..errors import DownloadError, network_reason

DEFAULT_URL = "https://data.ssb.no/api/klass/v1"
MUNICIPALITIES, COUNTIES = 131, 104


def base_url() -> str:
    return os.environ.get("KOMMUNELAB_KLASS_URL", DEFAULT_URL).rstrip("/")


def codes_at(classification: int, date: str, timeout: float = 60) -> list[dict]:
    url = f"{base_url()}/classifications/{classification}/codesAt"
    try:
        response = requests.get(url, params={"date": date}, headers={"Accept": "application/json"},
                                timeout=timeout)
    except requests.RequestException as exc:
        raise DownloadError(f"KLASS {classification}: cannot reach {url}: {network_reason(exc)}") from None
    if response.status_code != 200:
        raise DownloadError(f"KLASS {classification} at {date}: HTTP {response.status_code}: {response.text[:300]}")
    try:
        codes = response.json()["codes"]
    except (ValueError, KeyError):
        raise DownloadError(f"KLASS {classification} at {date}: the answer is not JSON with a 'codes' list") from None
    return codes


def municipalities(years: tuple[int, ...] = (2017, 2018, 2019)) -> pd.DataFrame:
    rows = []
    for year in years:
        date = f"{year}-01-01"
        counties = {c["code"]: c["name"] for c in codes_at(COUNTIES, date)}
        for c in codes_at(MUNICIPALITIES, date):
            code = c["code"]
            if code.startswith("99"):  # "Uoppgitt" (unknown), not a municipality
                continue
            rows.append({"year": year, "kommunenummer": code, "kommunenavn": c["name"],
                         "fylkesnummer": code[:2], "fylkesnavn": counties.get(code[:2])})
    return pd.DataFrame(rows)
