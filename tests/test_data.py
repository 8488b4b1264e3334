"""Reference-data loaders against the mirror, and every bad-input case named in the data issue."""

from __future__ import annotations

import shutil

import pytest

from kommunelab import data
from kommunelab.data.schema import read_table
from kommunelab.data.sources import locate
from kommunelab.errors import DataError


@pytest.fixture(autouse=True)
def _fresh_caches(project):
    """Each test reads from a scratch project (empty data/raw) and the real mirror."""
    yield


def test_municipalities(mirror):
    df = data.municipalities()
    assert len(df) == 98 and df["municipality_code"].is_unique
    assert df.dtypes["municipality_code"] == "int64" and df.dtypes["area_km2"] == "float64"
    assert df["region_code"].value_counts().sort_index().tolist() == [11, 19, 22, 29, 17]  # 81..85
    assert df["region_code"].value_counts().sort_values(ascending=False).tolist() == [29, 22, 19, 17, 11]
    prov = df.attrs["provenance"]
    assert prov["origin"] == "mirror" and len(prov["sha256"]) == 64
    assert prov["table"] == "dk_municipalities" and prov["retrieved"][:2] == "20" and prov["rows"] == 98
    assert prov["licence"] and "Wikipedia" in prov["source"]


def test_population_figures_from_folk1a():
    pop = data.population(year=2016).set_index("area_code")["population"]
    assert pop[101] == 591_481 and pop[270] == 41_107
    munis = data.population(year=2016, level="municipality")
    regions = data.population(year=2016, level="region")
    assert len(munis) == 98 and regions["population"].sum() == pop[0]
    # The country also counts Christiansø (about 90 inhabitants), which belongs to no municipality.
    assert 0 < pop[0] - munis["population"].sum() < 110
    with pytest.raises(DataError, match="no population for year 1990.*2008-2023"):
        data.population(year=1990)


def test_unemployment_and_income():
    u = data.unemployment()
    assert u["municipality_code"].nunique() == 98 and (u["year"].min(), u["year"].max()) == (2008, 2022)
    i = data.income()
    assert 0 in set(i["area_code"]) and (i["year"].min(), i["year"].max()) == (2008, 2021)


def test_norwegian_municipalities():
    counts = data.no_municipalities().groupby("year").size().to_dict()
    assert counts == {2017: 426, 2018: 422, 2019: 422}
    df = data.no_municipalities(2017)
    assert df["municipality_code"].str.fullmatch(r"\d{4}").all() and "0101" in set(df["municipality_code"])


def test_published_aggregates_in_the_mirror():
    iku = data.iku_national()
    assert iku["year"].tolist() == [2009, 2015, 2016, 2017, 2018]
    assert iku.set_index("year").loc[2017, "iku_all_municipalities_pct"] == 27.1
    agg = data.barometer_aggregates()
    assert len(agg) == 21 and set(agg["country"]) == {"DK", "NO", "SE"}


def test_municipality_names_and_codes():
    assert data.municipality_code("Gribskov") == 270
    assert data.municipality_code(270) == data.municipality_code("270") == 270
    assert data.municipality_code("copenhagen") == 101
    assert data.municipality_code("Bronderslev") == 810
    with pytest.raises(DataError, match="closest: Gribskov"):
        data.municipality_code("Gribskow")


def _write(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "table.csv"
    path.write_bytes(text.encode(encoding))
    return path


GOOD = "area_code,level,year,population\n0,country,2016,5707251\n101,municipality,2016,591481\n"


@pytest.mark.parametrize("text, encoding, message", [
    ("area_code,level,year\n0,country,2016\n", "utf-8", r"missing column\(s\) population"),
    (GOOD + "101,municipality,2016,591482\n", "utf-8", r"row 4, column 'area_code': duplicate key \(area_code=101, year=2016\)"),
    (GOOD.replace("591481", "many"), "utf-8", r"row 3, column 'population': 'many' is not a number"),
    (GOOD.replace(",", ";"), "utf-8", r"separated by ';', expected commas"),
    (GOOD.replace("country", "Ærø"), "latin-1", r"not UTF-8 .*line 2"),
    (GOOD.replace("country", "county"), "utf-8", r"row 2, column 'level': 'county' is not one of"),
])
def test_bad_files_name_file_row_column_and_problem(tmp_path, text, encoding, message):
    path = _write(tmp_path, text, encoding)
    with pytest.raises(DataError, match=message) as err:
        read_table(path, data.POPULATION.schema)
    assert str(path) in str(err.value)


def test_mirror_checksum_mismatch_is_refused(tmp_path, mirror, monkeypatch):
    copy = tmp_path / "mirror"
    shutil.copytree(mirror, copy)
    target = copy / "dk" / "population.csv"
    target.chmod(0o644)
    target.write_text(target.read_text(encoding="utf-8").replace("591481", "591482"), encoding="utf-8")
    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", str(copy))
    with pytest.raises(DataError, match="population.csv: checksum mismatch"):
        data.population()


def test_cache_comes_before_mirror(project, mirror):
    raw = project / "data" / "raw" / "dk"
    raw.mkdir(parents=True)
    shutil.copy(mirror / "dk" / "municipalities.csv", raw / "municipalities.csv")
    path, origin = locate(data.MUNICIPALITIES)
    assert origin == "cache" and path == raw / "municipalities.csv"


def test_missing_everywhere_without_a_client_says_what_to_do(monkeypatch):
    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", "")
    with pytest.raises(DataError, match="no download client for it.*set KOMMUNELAB_DATA_MIRROR"):
        data.municipalities()


def test_project_mirror_setting_in_reports_toml(project, mirror, monkeypatch):
    monkeypatch.delenv("KOMMUNELAB_DATA_MIRROR")
    manifest = project / "reports.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('mirror = "../shared/data"', 'mirror = "nowhere"'), encoding="utf-8")
    with pytest.raises(DataError, match=r"KOMMUNELAB_DATA_MIRROR is unset and the \[data\] mirror of reports.toml does not exist"):
        data.municipalities()
    manifest.write_text(text.replace('mirror = "../shared/data"', f'mirror = "{mirror}"'), encoding="utf-8")
    assert data.municipalities().attrs["provenance"]["origin"] == "mirror"

