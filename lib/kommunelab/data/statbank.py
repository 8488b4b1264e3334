"""Client for Statistics Denmark's StatBank API (https://api.statbank.dk/v1), CSV format.

A data request is a POST of {"table", "format": "CSV", "valuePresentation": "Code", "variables": [...]} to
/v1/data; the answer is semicolon-separated UTF-8 (with a byte-order mark) whose last column is INDHOLD.
Variables left out are eliminated (summed to their total), as the API documents. Set
$KOMMUNELAB_STATBANK_URL to use another server (the tests use one on 127.0.0.1).
"""

from __future__ import annotations

import io
import os

import pandas as pd
import requests

from ..errors import DownloadError, network_reason

DEFAULT_URL = "https://api.statbank.dk/v1"
REGION_CODES = {81, 82, 83, 84, 85}


def base_url() -> str:
    return os.environ.get("KOMMUNELAB_STATBANK_URL", DEFAULT_URL).rstrip("/")


def fetch_table(table: str, variables: dict[str, list[str]], timeout: float = 60) -> pd.DataFrame:
    """The table as a DataFrame of codes (strings) with the value column INDHOLD."""
    payload = {"table": table, "format": "CSV", "valuePresentation": "Code", "lang": "en",
               "variables": [{"code": code, "values": values} for code, values in variables.items()]}
    url = f"{base_url()}/data"
    try:
        response = requests.post(url, json=payload, timeout=timeout)
    except requests.RequestException as exc:
        raise DownloadError(f"StatBank {table}: cannot reach {url}: {network_reason(exc)}") from None
    if response.status_code != 200:
        raise DownloadError(f"StatBank {table}: HTTP {response.status_code} from {url}: {response.text[:300]}")
    text = response.content.decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    if "INDHOLD" not in frame.columns:
        raise DownloadError(f"StatBank {table}: the answer has no INDHOLD column (columns: {list(frame.columns)})")
    return frame


def _value(series: pd.Series) -> pd.Series:
    # StatBank writes ".." for a missing value; decimals may come with a comma.
    return pd.to_numeric(series.str.replace(",", ".", regex=False).replace("..", None), errors="coerce")


def folk1a_population(years: range = range(2008, 2024)) -> pd.DataFrame:
    """FOLK1A population on 1 January (quarter K1) for the country, regions and municipalities."""
    raw = fetch_table("FOLK1A", {"OMRÅDE": ["*"], "Tid": [f"{y}K1" for y in years]})
    area = raw.columns[0]
    codes = pd.to_numeric(raw[area], errors="coerce")
    keep = codes.notna() & ((codes == 0) | codes.isin(REGION_CODES) | (codes >= 100))
    raw, codes = raw[keep], codes[keep].astype(int)
    level = codes.map(lambda c: "country" if c == 0 else "region" if c in REGION_CODES else "municipality")
    return pd.DataFrame({"area_code": codes, "level": level, "year": raw["TID"].str[:4].astype(int),
                         "population": _value(raw["INDHOLD"])})


def aul01_unemployment(years: range = range(2008, 2023)) -> pd.DataFrame:
    """AUL01 unemployed persons (annual, all ages and sexes) by municipality."""
    raw = fetch_table("AUL01", {"OMRÅDE": ["*"], "Tid": [str(y) for y in years]})
    area = raw.columns[0]
    codes = pd.to_numeric(raw[area], errors="coerce")
    keep = codes.notna() & (codes >= 100)
    raw = raw[keep]
    return pd.DataFrame({"municipality_code": codes[keep].astype(int), "year": raw["TID"].astype(int),
                         "unemployed_persons": _value(raw["INDHOLD"])})
