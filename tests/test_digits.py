"""load_digits: the shipped 8×8 digits are the UCI test set, whole, and travel with the package."""

from __future__ import annotations

import ast
import fnmatch
import gzip
import hashlib
import re
import types
from pathlib import Path

import numpy as np
import pytest

import micrograd.data.digits as digits_module
from micrograd.datasets import load_digits, train_test_split

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "micrograd" / "data"
# The class distribution the dataset's description publishes for its test set (optdigits.tes).
PUBLISHED_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_shape_dtypes_and_values():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (1797,) and y.dtype == np.int64 and y.flags.c_contiguous
    assert X.min() == 0.0 and X.max() == 16.0
    assert np.array_equal(X, np.round(X))  # pixel counts: whole numbers 0..16
    assert np.bincount(y).tolist() == PUBLISHED_COUNTS


def test_checksum_of_the_arrays():
    """The exact numbers, bit for bit: any change to the file or to its reading shows here."""
    X, y = load_digits()
    assert hashlib.sha256(X.tobytes()).hexdigest() == "20def7f70a702f0af9732fbba4375e147a7d54fe70d8c45569b8e7c1c7010c10"
    assert hashlib.sha256(y.tobytes()).hexdigest() == "a3c91c262eddcf7ba8f0e37507c30284493c9b20412ffe4af30d536401f7ba21"


def test_the_first_image_is_a_zero_read_row_by_row():
    X, y = load_digits()
    image = X[0].reshape(8, 8)
    assert y[0] == 0
    assert image[0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]  # the top of the loop
    assert image[3].tolist() == [0, 4, 12, 0, 0, 8, 8, 0]  # both sides of the 0, a hole in between
    assert image[:, 0].sum() == 0 and image[:, 7].sum() == 0  # centred: empty first and last columns


def test_every_call_gives_fresh_arrays():
    X, y = load_digits()
    X[0, 0], y[0] = 99.0, 7
    X2, y2 = load_digits()
    assert X2[0, 0] == 0.0 and y2[0] == 0


def test_classes_take_turns_so_slices_and_splits_hold_every_digit():
    X, y = load_digits()
    assert set(y[-len(y) // 5 :].tolist()) == set(range(10))  # Keras's validation_split keeps the last 20%
    X_train, X_test, _, y_test = train_test_split(X, y, test_size=0.2, seed=0)
    assert X_train.shape == (1437, 64) and X_test.shape == (360, 64)
    assert set(y_test.tolist()) == set(range(10))
    again = train_test_split(X, y, test_size=0.2, seed=0)
    assert np.array_equal(again[1], X_test) and np.array_equal(again[3], y_test)


def test_the_shipped_file_is_the_one_its_readme_names():
    raw = (DATA / "digits.csv.gz").read_bytes()
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    named = re.search(r"sha256 `([0-9a-f]{64})`", readme)
    assert named is not None and hashlib.sha256(raw).hexdigest() == named.group(1)
    assert len(raw) < 100_000
    assert "CC BY 4.0" in readme and "Alpaydin" in readme and "Kaynak" in readme
    lines = gzip.decompress(raw).decode("ascii").splitlines()
    assert len(lines) == 1797 and all(len(line.split(",")) == 65 for line in lines)


def _package_data(pyproject: str) -> dict[str, list[str]]:
    """The `[tool.setuptools.package-data]` table: `"package" = ["pattern", ...]` lines (no tomllib on 3.10)."""
    section = pyproject.split("[tool.setuptools.package-data]", 1)[1].split("\n[", 1)[0]
    declared = {}
    for line in section.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            declared[ast.literal_eval(key.strip())] = ast.literal_eval(value.strip())
    return declared


def test_every_data_file_of_the_packages_is_declared_package_data():
    """`pip install .` copies only .py files unless pyproject.toml lists the others."""
    declared = _package_data((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    missing = []
    for top in ("micrograd", "viz"):
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            package = ".".join(path.parent.relative_to(ROOT).parts)
            if not any(fnmatch.fnmatch(path.name, pattern) for pattern in declared.get(package, [])):
                missing.append(str(path.relative_to(ROOT)))
    assert missing == []
    assert "digits.csv.gz" in declared["micrograd.data"]


def _files_in(folder: Path) -> types.SimpleNamespace:
    return types.SimpleNamespace(files=lambda package: folder)


def test_a_missing_or_damaged_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(digits_module, "resources", _files_in(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"load_digits: the data file micrograd/data/digits.csv.gz is missing"):
        load_digits()
    (tmp_path / "digits.csv.gz").write_bytes(gzip.compress(b"1,2,3\n4,5,6\n"))
    with pytest.raises(ValueError, match=r"load_digits: .* shape \(2, 3\), expected \(1797, 65\); the file is damaged"):
        load_digits()


def test_notebook_05s_digits_model_reaches_95_percent_on_the_test_set():
    """The model of notebook 05's digits section, trained the same way: ≥ 95% on digits it never saw."""
    from micrograd import Dense, Sequential
    from micrograd.optim import Adam

    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.2, seed=0)
    model = Sequential([Dense(32, "relu", init="he"), Dense(10, "softmax", init="xavier")], input_dim=64, seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=Adam(lr=0.003), metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=8, batch_size=32, seed=0, verbose=0)
    _, accuracy = model.evaluate(X_test, y_test)
    predicted = model.predict(X_test).argmax(axis=1)
    assert accuracy == np.mean(predicted == y_test)  # evaluate's accuracy is the argmax's
    assert accuracy >= 0.95
