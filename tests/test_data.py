"""Reference-data loaders against the project's pinned snapshot, and every bad-input case named in the data issue."""

from __future__ import annotations

import shutil

import pytest

from kommunelab import data
from kommunelab.data.schema import read_table
from kommunelab.errors import DataError
from kommunelab.reference import locate


@pytest.fixture(autouse=True)
def _fresh_caches(project):
    """Each test reads from a scratch copy of the project, its snapshot included."""
    yield


def test_municipalities(reference):
    df = data.municipalities()
    assert len(df) == 98 and df["municipality_code"].is_unique
    assert df.dtypes["municipality_code"] == "int64" and df.dtypes["area_km2"] == "float64"
    assert df["region_code"].value_counts().sort_index().tolist() == [11, 19, 22, 29, 17]  # 81..85
    assert df["region_code"].value_counts().sort_values(ascending=False).tolist() == [29, 22, 19, 17, 11]
    prov = df.attrs["provenance"]
    assert prov["origin"] == "snapshot" and len(prov["sha256"]) == 64 and prov["rows"] == 98
    assert prov["retrieved"] == "2026-11-29"  # from datapackage.json, not from the file's modification time
    assert "CC BY-SA" in prov["attribution"] and "CC BY-SA 4.0" in prov["licence"] and "Wikipedia" in prov["source"]


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


def test_the_published_figure_tables():
    iku = data.iku_national()
    assert iku["year"].tolist() == [2009, 2015, 2016, 2017, 2018]
    assert iku.set_index("year").loc[2017, "iku_all_municipalities_pct"] == 27.1


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


def test_mirror_checksum_mismatch_is_refused(tmp_path, reference, monkeypatch):
    copy = tmp_path / "mirror"
    shutil.copytree(reference, copy)
    target = copy / "dk" / "population.csv"
    target.chmod(0o644)
    target.write_text(target.read_text(encoding="utf-8").replace("591481", "591482"), encoding="utf-8")
    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", str(copy))
    with pytest.raises(DataError, match="population.csv: checksum mismatch"):
        data.population()


def test_a_snapshot_file_changed_by_hand_is_refused(project):
    target = project / "data" / "reference" / "dk" / "population.csv"
    target.write_text(target.read_text(encoding="utf-8").replace("591481", "591482"), encoding="utf-8")
    with pytest.raises(DataError, match="population.csv: checksum mismatch.*kommunelab data update --write"):
        data.population()


def test_a_missing_snapshot_file_says_how_to_restore_it(project):
    (project / "data" / "reference" / "dk" / "municipalities.csv").unlink()
    with pytest.raises(DataError, match="missing from the project's reference snapshot.*git checkout -- data/reference"):
        data.municipalities()


def test_a_mirror_folder_overrides_the_snapshot_file_by_file(project, tmp_path, monkeypatch, reference):
    folder = tmp_path / "own"
    (folder / "dk").mkdir(parents=True)
    shutil.copy(reference / "dk" / "population.csv", folder / "dk" / "population.csv")
    (folder / "SHA256SUMS").write_text(next(line for line in (reference / "SHA256SUMS").read_text().splitlines()
                                            if line.endswith("dk/population.csv")) + "\n")
    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", str(folder))
    assert locate(data.POPULATION.path) == (folder / "dk" / "population.csv", "mirror")
    assert data.municipalities().attrs["provenance"]["origin"] == "snapshot"  # not in that folder
    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="names a folder that does not exist"):
        data.population()


def test_every_snapshot_file_is_described_with_source_licence_and_attribution(reference):
    from kommunelab.data.update import verify
    from kommunelab.reference import resources

    described = resources(reference)
    assert set(described) == {p.relative_to(reference).as_posix() for p in reference.rglob("*")
                              if p.is_file() and p.name not in ("SHA256SUMS", "datapackage.json")}
    for r in described.values():
        assert r.publisher and r.address.startswith("http") and r.licences and r.attribution and r.retrieved
    assert {d.path for d in data.DATASETS.values()} <= set(described)
    assert verify(reference.parents[1]) == []


def test_verify_names_what_is_wrong_with_the_snapshot(project):
    from kommunelab.data.update import verify

    folder = project / "data" / "reference"
    (folder / "dk" / "stray.csv").write_text("a\n1\n")
    (folder / "no" / "municipalities_2017_2019.csv").write_text("year,kommunenummer\n")
    problems = "\n".join(verify(project))
    assert "dk/stray.csv: in" in problems and "not described" in problems
    assert "municipalities_2017_2019.csv: checksum mismatch" in problems
