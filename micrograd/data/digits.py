"""The 8×8 handwritten digits: a real dataset, shipped with the package, read without a network.

1,797 images of the digits 0-9, each 8×8 pixels holding a count 0..16: the test set of the UCI
Machine Learning Repository's "Optical Recognition of Handwritten Digits" (E. Alpaydin and
C. Kaynak, 1998; CC BY 4.0; doi:10.24432/C50P49). The file `digits.csv.gz` beside this module is
that set as scikit-learn ships it (one row per image: 64 pixels row by row, then the label);
README.md beside it says where it comes from and how to cite it.
"""

from __future__ import annotations

import gzip
import io
from importlib import resources

import numpy as np

FILE = "digits.csv.gz"
SAMPLES, FEATURES, CLASSES = 1797, 64, 10


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8×8 digits: `X`, float64 of shape (1797, 64), and `y`, int64 of shape (1797,), labels 0..9.

    Row i of X is image i read row by row (`X[i].reshape(8, 8)` is the picture); every pixel is
    a whole number 0..16 (how many of the 16 pixels of a 4×4 block of the 32×32 scan were ink),
    so divide by 16 for inputs in [0, 1]. Rows keep the file's order, in which the classes take
    turns, so any slice holds every digit. Always the same numbers; for a random, reproducible
    train/test split use `train_test_split(X, y, test_size=0.2, seed=0)`.

    Source: UCI ML Repository, "Optical Recognition of Handwritten Digits" (test set), by
    E. Alpaydin and C. Kaynak (1998), CC BY 4.0, doi:10.24432/C50P49.
    """
    try:
        raw = resources.files(__package__).joinpath(FILE).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"load_digits: the data file micrograd/data/{FILE} is missing from this installation of "
            "micrograd-lab; reinstall the package (pip install --force-reinstall micrograd-lab)"
        ) from None
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape != (SAMPLES, FEATURES + 1):
        raise ValueError(
            f"load_digits: micrograd/data/{FILE} holds a table of shape {table.shape}, "
            f"expected ({SAMPLES}, {FEATURES + 1}); the file is damaged, reinstall micrograd-lab"
        )
    X = np.ascontiguousarray(table[:, :FEATURES], dtype=np.float64)
    y = np.ascontiguousarray(table[:, FEATURES])
    return X, y


__all__ = ["load_digits"]
