"""Small datasets made on the spot (two moons, XOR, circles, spirals, blobs)."""

from .datasets import make_blobs, make_circles, make_moons, make_spirals, make_xor, train_test_split

__all__ = ["make_blobs", "make_circles", "make_moons", "make_spirals", "make_xor", "train_test_split"]
