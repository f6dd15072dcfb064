"""Datasets: small synthetic ones made on the spot (two moons, XOR, circles, spirals, blobs) and the
8×8 handwritten digits, shipped with the package."""

from .datasets import make_blobs, make_circles, make_moons, make_spirals, make_xor, train_test_split
from .digits import load_digits

__all__ = ["load_digits", "make_blobs", "make_circles", "make_moons", "make_spirals", "make_xor", "train_test_split"]
