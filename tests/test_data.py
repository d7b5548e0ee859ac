"""posthoc.data: shapes, split, privileged groups, checksums, downloads and errors."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import posthoc.rawfiles as data_module
from posthoc import Split, load_dataset
from posthoc.data import CHECKSUMS, ensure_files, load_aif360

SHAPES = {"adult-sex": (45222, 98), "bank-age": (30488, 57),
          "compas-race": (6167, 401), "compas-sex": (6167, 401),
          "german-sex": (1000, 58), "german-age": (1000, 58)}


@pytest.mark.parametrize("name", list(SHAPES))
def test_shapes_and_split(data_dir, datasets, name):
    dataset = datasets[name] if name in datasets else load_dataset(name, data_dir=data_dir)
    rows, features = SHAPES[name]
    sizes = [len(dataset.train), len(dataset.valid), len(dataset.test)]
    assert sum(sizes) == rows and dataset.n_features == features
    assert len(dataset.feature_names) == features
    # AIF360's split: int(0.6 n) rows to train, then int(0.5 rest) to valid.
    assert sizes[0] == int(0.6 * rows) and sizes[1] == int(0.5 * (rows - sizes[0]))
    for part in (dataset.train, dataset.valid, dataset.test):
        assert part.X.dtype == np.float32 and set(np.unique(part.y)) <= {0, 1}
        assert set(np.unique(part.a)) == {0, 1}
    # Standardised with the training split's statistics.
    X = dataset.train.X.astype(np.float64)
    varying = X.std(axis=0) > 0
    assert np.allclose(X.mean(axis=0), 0, atol=1e-4)
    assert np.allclose(X.std(axis=0)[varying], 1, atol=1e-3)


def _raw_column(data_dir: Path, name: str) -> pd.Series:
    """The protected attribute's raw values, indexed as AIF360 names instances."""
    if name == "adult-sex":
        columns = ["age", "workclass", "fnlwgt", "education", "education-num",
                   "marital-status", "occupation", "relationship", "race", "sex",
                   "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"]
        train = pd.read_csv(data_dir / "adult/adult.data", header=None, names=columns,
                            skipinitialspace=True)
        test = pd.read_csv(data_dir / "adult/adult.test", header=0, names=columns,
                           skipinitialspace=True)
        return pd.concat([test, train], ignore_index=True)["sex"]
    if name == "bank-age":
        return pd.read_csv(data_dir / "bank/bank-additional-full.csv", sep=";")["age"]
    if name.startswith("german"):
        frame = pd.read_csv(data_dir / "german/german.data", sep=" ", header=None)
        # Column 8 is the personal status (A92, A95: female), column 12 the age.
        return frame[8] if name == "german-sex" else frame[12]
    frame = pd.read_csv(data_dir / "compas/compas-scores-two-years.csv", index_col="id")
    return frame[name.split("-")[1]]


@pytest.mark.parametrize("name, privileged", [
    ("adult-sex", lambda v: v == "Male"),
    ("bank-age", lambda v: v >= 25),
    ("compas-race", lambda v: v == "Caucasian"),
    ("compas-sex", lambda v: v == "Female"),
    ("german-sex", lambda v: v in ("A91", "A93", "A94")),
    ("german-age", lambda v: v > 25),
])
def test_privileged_groups_from_the_raw_files(data_dir, datasets, name, privileged):
    train, valid, test = load_aif360(name, data_dir=data_dir)
    raw = _raw_column(data_dir, name)
    dataset = datasets[name] if name in datasets else load_dataset(name, data_dir=data_dir)
    for aif, part in zip((train, valid, test), (dataset.train, dataset.valid, dataset.test)):
        index = [int(i) if raw.index.dtype.kind == "i" else i for i in aif.instance_names]
        expected = np.array([privileged(v) for v in raw.loc[index]], dtype=np.int64)
        assert np.array_equal(part.a, expected)


def test_matches_aif360_default_classes(data_dir, tmp_path):
    """Our loader against AdultDataset(), BankDataset(), CompasDataset() run from a copy of
    the aif360 package with the raw files placed where it expects them."""
    import aif360

    package = Path(aif360.__file__).parent
    copy = tmp_path / "site" / "aif360"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for relative in CHECKSUMS:
        target = copy / "data" / "raw" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / relative, target)
    script = r"""
import hashlib, json, sys
import numpy as np
from aif360.datasets import AdultDataset, BankDataset, CompasDataset, GermanDataset
out = {}
for key, cls in (("adult", AdultDataset), ("bank", BankDataset), ("compas", CompasDataset),
                 ("german", GermanDataset)):
    kwargs = {"privileged_classes": [lambda x: x >= 25]} if key == "bank" else {}
    full = cls(**kwargs)
    train, rest = full.split([0.6], shuffle=True, seed=101)
    valid, test = rest.split([0.5], shuffle=True, seed=101)
    out[key] = [hashlib.sha256(np.ascontiguousarray(p.features).tobytes()
                               + np.ascontiguousarray(p.labels).tobytes()
                               + np.ascontiguousarray(p.protected_attributes).tobytes()
                               ).hexdigest() for p in (train, valid, test)]
    out[key].append(list(full.feature_names))
print(json.dumps(out))
"""
    env = {"PYTHONPATH": str(copy.parent), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    reference = json.loads(result.stdout.strip().splitlines()[-1])
    for config, key in (("adult-sex", "adult"), ("bank-age", "bank"), ("compas-race", "compas"),
                        ("german-age", "german")):
        parts = load_aif360(config, data_dir=data_dir)
        ours = [hashlib.sha256(np.ascontiguousarray(p.features).tobytes()
                               + np.ascontiguousarray(p.labels).tobytes()
                               + np.ascontiguousarray(p.protected_attributes).tobytes()
                               ).hexdigest() for p in parts]
        assert ours == reference[key][:3], config
        assert list(parts[0].feature_names) == reference[key][3]


def test_unknown_name_lists_the_valid_ones(data_dir):
    with pytest.raises(ValueError, match=r"'adult'.*adult-sex, bank-age, compas-race, compas-sex"):
        load_dataset("adult", data_dir=data_dir)


def _no_network(source):
    raise OSError("network unreachable")


def test_missing_file_names_file_folder_and_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "FETCH", _no_network)
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("compas-race", data_dir=tmp_path)
    message = str(info.value)
    assert "compas/compas-scores-two-years.csv" in message and str(tmp_path) in message
    assert "POSTHOC_DATA" in message and "https://" in message


def test_corrupted_file_is_an_error(data_dir, tmp_path):
    target = tmp_path / "compas" / "compas-scores-two-years.csv"
    target.parent.mkdir()
    payload = bytearray((data_dir / "compas/compas-scores-two-years.csv").read_bytes())
    payload[100] ^= 1
    target.write_bytes(bytes(payload))
    with pytest.raises(ValueError, match=r"compas-scores-two-years.csv.*corrupted") as info:
        load_dataset("compas-sex", data_dir=tmp_path)
    assert str(tmp_path) in str(info.value)


def test_download_verifies_and_unpacks_nested_archives(data_dir, tmp_path):
    """Downloads are served from local file:// addresses laid out like the real sources."""
    served = tmp_path / "served"
    served.mkdir()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        for name in ("bank-additional-full.csv", "bank-additional-names.txt"):
            archive.write(data_dir / "bank" / name, f"bank-additional/{name}")
    with zipfile.ZipFile(served / "bank+marketing.zip", "w") as archive:
        archive.writestr("bank-additional.zip", inner.getvalue())
    shutil.copy(data_dir / "compas/compas-scores-two-years.csv", served)
    sources = dict(data_module.SOURCES)
    sources["bank/bank-additional-full.csv"] = (
        (served / "bank+marketing.zip").as_uri(), "bank-additional.zip",
        "bank-additional/bank-additional-full.csv")
    sources["compas/compas-scores-two-years.csv"] = (
        (served / "compas-scores-two-years.csv").as_uri(),)
    target = tmp_path / "fresh"
    fetched = []

    def fetch(source):
        fetched.append(source[0])
        return data_module.download(source)

    original = data_module.SOURCES
    data_module.SOURCES = sources
    try:
        ensure_files(["bank/bank-additional-full.csv", "compas/compas-scores-two-years.csv"],
                     target, fetch=fetch)
        assert len(fetched) == 2
        assert (target / "bank/bank-additional-full.csv").read_bytes() == \
            (data_dir / "bank/bank-additional-full.csv").read_bytes()
        # A second call finds verified files and downloads nothing.
        ensure_files(["compas/compas-scores-two-years.csv"], target, fetch=fetch)
        assert len(fetched) == 2
        # A download with the wrong content is refused and nothing is written.
        (served / "compas-scores-two-years.csv").write_text("id\n1\n")
        (target / "compas/compas-scores-two-years.csv").unlink()
        with pytest.raises(ValueError, match="does not match its checksum"):
            ensure_files(["compas/compas-scores-two-years.csv"], target, fetch=fetch)
        assert not (target / "compas/compas-scores-two-years.csv").exists()
    finally:
        data_module.SOURCES = original


def test_a_missing_file_is_downloaded_by_default(data_dir, tmp_path):
    """Without ``fetch``, the module's own download runs (file:// here): the ``download``
    flag must not hide it."""
    served = tmp_path / "compas-scores-two-years.csv"
    shutil.copy(data_dir / "compas/compas-scores-two-years.csv", served)
    original = data_module.SOURCES
    data_module.SOURCES = {**original,
                           "compas/compas-scores-two-years.csv": (served.as_uri(),)}
    try:
        ensure_files(["compas/compas-scores-two-years.csv"], tmp_path / "fresh")
    finally:
        data_module.SOURCES = original
    assert (tmp_path / "fresh/compas/compas-scores-two-years.csv").read_bytes() == \
        served.read_bytes()


def test_checksums_match_every_listing_of_the_data_folder(data_dir):
    """Every SHA256SUMS of the data folder (its own, and one per dataset folder, such as
    german/SHA256SUMS), each path relative to its listing, against the project's sums."""
    listings = sorted(data_dir.rglob("SHA256SUMS"))
    if not listings:
        pytest.skip("the data folder has no SHA256SUMS listing")
    sums = {}
    for listing in listings:
        folder = listing.parent.relative_to(data_dir)
        for line in listing.read_text().splitlines():
            if line:
                digest, name = line.split()
                sums[(folder / name).as_posix()] = digest
    assert sums == {path: CHECKSUMS[path] for path in sums}
    assert set(sums) == set(CHECKSUMS) or not (data_dir / "german").is_dir()


@pytest.mark.parametrize("kwargs, match", [
    (dict(X=np.zeros((3, 2)), y=[0, 1], a=[0, 1, 1]), "length"),
    (dict(X=np.zeros((3, 2)), y=[0, 1, 1], a=[0, 1]), "length"),
    (dict(X=np.array([[0.0, np.nan], [1, 1]]), y=[0, 1], a=[0, 1]), r"^X contains NaN"),
    (dict(X=np.array([[0.0, np.inf], [1, 1]]), y=[0, 1], a=[0, 1]), r"^X contains NaN or inf"),
    (dict(X=np.zeros((2, 2)), y=[0, 2], a=[0, 1]), r"^y must contain only 0 and 1"),
    (dict(X=np.zeros((2, 2)), y=[0.0, 0.5], a=[0, 1]), r"^y must contain only 0 and 1"),
    (dict(X=np.zeros((2, 2)), y=[0, 1], a=[-1, 1]), r"^a must hold group codes 0, 1"),
    (dict(X=np.zeros(2), y=[0, 1], a=[0, 1]), r"^X must be a 2-D"),
    (dict(X=np.zeros((2, 2)), y=["no", "yes"], a=[0, 1]), r"^y must be numeric"),
])
def test_split_checks_its_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Split(**kwargs)


def test_split_converts_types():
    part = Split(np.ones((2, 3), dtype=np.float64), np.array([0.0, 1.0]), [True, False])
    assert part.X.dtype == np.float32 and part.y.dtype == np.int64 and part.a.tolist() == [1, 0]
    assert hashlib.sha256(part.X.tobytes()).hexdigest()


def test_split_from_a_frame_maps_any_protected_dtype_and_names_bad_columns():
    import pandas as pd

    from posthoc import Split

    frame = pd.DataFrame({"age": [30, 45, 52, 23], "race": ["a", "b", "c", "b"],
                          "smoker": [True, False, True, False], "y": [1, 0, 1, 1]})
    split = Split.from_frame(frame, label="y", protected="race", privileged=["b", "c"],
                             features=["age", "smoker"])
    assert split.a.tolist() == [0, 1, 1, 1] and split.X[:, 1].tolist() == [1, 0, 1, 0]
    numeric = Split.from_frame(frame.assign(race=[1, 2, 2, 3]), label="y", protected="race",
                               privileged=2, features=["age"])
    assert numeric.a.tolist() == [0, 1, 1, 0]
    # Default features: every column but the label, in the frame's order.
    assert Split.from_frame(frame.drop(columns="race").assign(g=[0, 1, 0, 1]), label="y",
                            protected="g").X.shape == (4, 3)
    with pytest.raises(ValueError, match=r"label column 'y' must hold only 0 and 1; got \[2\]"):
        Split.from_frame(frame.assign(y=[1, 2, 0, 1]), label="y", protected="race",
                         privileged="b", features=["age"])
    with pytest.raises(ValueError, match=r"protected column 'race' holds \['a', 'b', 'c'\]; "
                                         r"pass privileged="):
        Split.from_frame(frame, label="y", protected="race", features=["age"])
    with pytest.raises(ValueError, match=r"feature column 'race' must be numeric; it holds "
                                         r"object values such as 'a'"):
        Split.from_frame(frame, label="y", protected="race", privileged="b")
    with pytest.raises(ValueError, match=r"feature column 'age' has 1 missing values"):
        Split.from_frame(frame.assign(age=[1.0, None, 3.0, 4.0]), label="y", protected="race",
                         privileged="b", features=["age"])


def test_split_from_a_frame_with_several_groups_and_an_intersection():
    import pandas as pd

    from posthoc import Split, bias

    frame = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
                          "sex": ["f", "m", "f", "m", "f", "m"],
                          "race": ["a", "a", "b", "b", "c", "c"], "y": [1, 0, 1, 1, 0, 0]})
    split = Split.from_frame(frame, label="y", protected=["sex", "race"], multigroup=True,
                             features=["x"])
    # Sorted combinations: f&a, f&b, f&c, m&a, m&b, m&c.
    assert split.a.tolist() == [0, 3, 1, 4, 2, 5]
    # Each intersection holds one person: the largest gap in positive rate is 1.
    assert bias(split.y, split.y, split.a, "spd") == 1.0
    with pytest.raises(ValueError, match=r"names several columns; pass multigroup=True"):
        Split.from_frame(frame, label="y", protected=["sex", "race"], features=["x"])
    with pytest.raises(ValueError, match=r"privileged= and multigroup=True exclude each other"):
        Split.from_frame(frame, label="y", protected="race", multigroup=True, privileged="a",
                         features=["x"])


def test_label_codings_against_aif360s_labels(data_dir, datasets):
    # "aif360" keeps AIF360's numeric label (COMPAS: 1 = reoffends, favourable label 0);
    # "favourable" makes 1 the favourable outcome. Adult and Bank: the same under both.
    from posthoc import load_dataset
    from posthoc.data import label_meaning

    train, _, _ = load_aif360("compas-race", data_dir=data_dir)
    assert train.favorable_label == 0.0
    compas = datasets["compas-race"]
    assert compas.labels == "aif360" and compas.positive == "reoffends within two years"
    assert np.array_equal(compas.train.y, (train.labels.ravel() == 1).astype(np.int64))
    recoded = load_dataset("compas-race", labels="favourable", data_dir=data_dir)
    assert np.array_equal(recoded.train.y, 1 - compas.train.y)
    assert np.array_equal(recoded.train.X, compas.train.X)
    assert label_meaning("compas-race", "favourable") == "does not reoffend within two years"
    adult = load_dataset("adult-sex", labels="favourable", data_dir=data_dir)
    assert np.array_equal(adult.test.y, datasets["adult-sex"].test.y)
    with pytest.raises(ValueError, match="labels"):
        load_dataset("adult-sex", labels="raw", data_dir=data_dir)


def test_configurations_with_more_than_two_groups(data_dir, datasets):
    from posthoc import load_dataset

    # Adult, sex x race: AIF360's two binary attributes, sex the most significant bit.
    both = load_dataset("adult-sex-race", data_dir=data_dir)
    train, _, _ = load_aif360("adult-sex", data_dir=data_dir)
    sex = train.protected_attributes[:, train.protected_attribute_names.index("sex")]
    race = train.protected_attributes[:, train.protected_attribute_names.index("race")]
    assert np.array_equal(both.train.a, (2 * sex + race).astype(np.int64))
    assert both.group_names == ("female, non-white", "female, white", "male, non-white",
                                "male, white")
    assert np.array_equal(both.train.X, datasets["adult-sex"].train.X)
    # COMPAS, every value of race, read from the raw file by person id.
    every = load_dataset("compas-race-all", data_dir=data_dir)
    raw = pd.read_csv(data_dir / "compas/compas-scores-two-years.csv", index_col="id")["race"]
    compas, _, _ = load_aif360("compas-race", data_dir=data_dir)
    names = [every.group_names[code] for code in every.train.a]
    assert names == raw.loc[[int(i) for i in compas.instance_names]].tolist()
    assert len(every.group_names) == 6
    # Caucasian is the binary configuration's privileged group.
    caucasian = every.group_names.index("Caucasian")
    assert np.array_equal(every.train.a == caucasian, datasets["compas-race"].train.a == 1)


GERMAN_COLUMNS = ["status", "month", "credit_history", "purpose", "credit_amount", "savings",
                  "employment", "investment_as_income_percentage", "personal_status",
                  "other_debtors", "residence_since", "property", "age", "installment_plans",
                  "housing", "number_of_credits", "skill_level", "people_liable_for",
                  "telephone", "foreign_worker", "credit"]


@pytest.fixture
def toy_configuration(data_dir, tmp_path):
    """A new dataset (German credit's first 400 rows, as a file of its own) and its
    configuration, registered as one record; unregistered afterwards."""
    import posthoc
    from posthoc.configurations import CONFIGURATIONS, DATASETS
    from posthoc.rawfiles import CHECKSUMS, RAW_FILES, SOURCES

    raw = (data_dir / "german/german.data").read_text().splitlines(keepends=True)[:400]
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy/german-400.data").write_text("".join(raw))
    digest = hashlib.sha256("".join(raw).encode()).hexdigest()
    source = posthoc.DatasetSource(
        "toy", "Toy", (posthoc.RawFile("toy/german-400.data", digest,
                                       ("https://example.invalid/german-400.data",)),),
        "GermanDataset", lambda folder, na: pd.read_csv(
            folder / "toy/german-400.data", sep=" ", header=None, names=GERMAN_COLUMNS,
            na_values=na))
    config = posthoc.register_configuration(posthoc.Configuration(
        "toy-sex", "toy", "sex", "German credit's first 400 rows, protected attribute sex",
        "male (a = 1) is privileged", "good credit", "bad credit", 1, label="Toy (sex)",
        marker="*", source=source))
    try:
        yield config, tmp_path
    finally:
        CONFIGURATIONS.pop("toy-sex"), DATASETS.pop("toy")
        for registry in (RAW_FILES, CHECKSUMS, SOURCES):
            registry.pop("toy/german-400.data")


def test_a_toy_dataset_is_one_configuration_record_end_to_end(toy_configuration):
    """One Configuration record (with its DatasetSource and RawFile) is all a new dataset
    needs: its file is checked, it loads and splits, the book labels and marks it, and a
    study cell runs on it."""
    from posthoc.repro.cells import Cell, Settings, grid, run_cell
    from posthoc.repro.figures import MARKERS
    from posthoc.repro.paper import PAPER_LABELS

    config, folder = toy_configuration
    data = load_dataset("toy-sex", data_dir=folder, download=False)
    assert (len(data.train), len(data.valid), len(data.test)) == (240, 80, 80)
    assert set(np.unique(data.train.a)) == {0, 1} and data.positive == "good credit"
    assert (PAPER_LABELS["toy-sex"], MARKERS["toy-sex"]) == ("Toy (sex)", "*")
    cells = grid(configs=["toy-sex"], seeds=[0], measures=["spd"], methods=["default", "roc"])
    assert cells == [Cell("toy-sex", "default", 0, "spd", m) for m in ("default", "roc")]
    row = run_cell(cells[1], Settings(max_epochs=3), data_dir=folder)
    assert row["config"] == "toy-sex" and not row["error"] and 0 < row["test_accuracy"] <= 1
    (folder / "toy/german-400.data").write_text("changed\n")
    with pytest.raises(ValueError, match="toy/german-400.data .* is corrupted"):
        load_dataset("toy-sex", data_dir=folder, download=False)
    with pytest.raises(ValueError, match="registered already"):
        import posthoc
        posthoc.register_configuration(config)
