"""Initialisers: how a layer draws its initial weights and biases, by name or as an object.

One weight at a time, from the model's generator (a `RandomSource`), so the same seed gives the
same weights. The names are Keras's, with Keras 3's formulas (fan_in: the neuron's inputs,
fan_out: the layer's neurons):

    zeros, ones                    0, 1
    random_uniform                 U(−0.05, 0.05)
    random_normal                  N(0, 0.05²)
    truncated_normal               N(0, 0.05²), redrawn beyond 2 standard deviations
    glorot_uniform                 U(−a, a), a = √(6 / (fan_in + fan_out))      (Glorot & Bengio 2010)
    glorot_normal                  truncated normal with variance 2 / (fan_in + fan_out)
    he_uniform                     U(−a, a), a = √(6 / fan_in)                   (He et al. 2015)
    he_normal                      truncated normal with variance 2 / fan_in

Keras's truncated normals redraw every value beyond two standard deviations and widen the normal
first (σ / 0.8796…) so that what is left has exactly the variance the formula asks for.

And micrograd's own names, which `MLP(init=)` has always taken:

    uniform                        U(−1, 1): micrograd's neurons (the default everywhere)
    normal                         N(0, 1)
    xavier                         glorot_uniform under PyTorch's name (nn.init.xavier_uniform_)
    he                             N(0, 2 / fan_in), not truncated: PyTorch's nn.init.kaiming_normal_

Beware: Keras reads "uniform" and "normal" as random_uniform/random_normal (±0.05, σ = 0.05); here
they are micrograd's U(−1, 1) and N(0, 1), the weights every micrograd model starts from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol

from ..checks import check_number


class RandomSource(Protocol):
    """What initialisation draws from: a `random.Random`, or the `random` module itself."""

    def uniform(self, a: float, b: float) -> float: ...
    def gauss(self, mu: float, sigma: float) -> float: ...
    def getrandbits(self, k: int, /) -> int: ...


# The standard deviation of N(0, 1) cut to (−2, 2): Keras divides by it so that a truncated
# normal keeps the variance its formula names (scipy.stats.truncnorm.std(-2, 2)).
TRUNCATED_STD = 0.87962566103423978


def _truncated_gauss(rng: RandomSource, mean: float, stddev: float) -> float:
    """A draw of N(mean, stddev²), drawn again until it lies within two standard deviations."""
    while True:  # ends: each draw is kept with probability 0.954
        z = rng.gauss(0.0, 1.0)
        if -2.0 < z < 2.0:
            return mean + stddev * z


class Initializer:
    """Draws one initial weight of a neuron with `fan_in` inputs in a layer of `fan_out` neurons.

    Each kind is a frozen dataclass of its settings, so that equal settings are equal initialisers
    and a model file can write them (`initializer_config`) and read them back (`get_initializer`).
    """

    class_name: ClassVar[str] = ""

    def __call__(self, rng: RandomSource, fan_in: int, fan_out: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, float]:
        """Its settings (Keras's `get_config`): what `initializer_config` writes into a model file."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class Constant(Initializer):
    """Every weight `value`: "zeros" and "ones" are Constant(0.0) and Constant(1.0)."""

    value: float = 0.0
    class_name: ClassVar[str] = "Constant"

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", check_number("Constant", "value", self.value))

    def __call__(self, rng: RandomSource, fan_in: int, fan_out: int) -> float:
        return self.value


@dataclass(frozen=True)
class RandomUniform(Initializer):
    """U(minval, maxval); Keras's default ±0.05."""

    minval: float = -0.05
    maxval: float = 0.05
    class_name: ClassVar[str] = "RandomUniform"

    def __post_init__(self) -> None:
        low = check_number("RandomUniform", "minval", self.minval)
        high = check_number("RandomUniform", "maxval", self.maxval)
        if not low < high:
            raise ValueError(f"RandomUniform: minval ({low}) must be smaller than maxval ({high})")
        object.__setattr__(self, "minval", low)
        object.__setattr__(self, "maxval", high)

    def __call__(self, rng: RandomSource, fan_in: int, fan_out: int) -> float:
        return rng.uniform(self.minval, self.maxval)


@dataclass(frozen=True)
class RandomNormal(Initializer):
    """N(mean, stddev²); Keras's default σ = 0.05."""

    mean: float = 0.0
    stddev: float = 0.05
    class_name: ClassVar[str] = "RandomNormal"

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", check_number(self.class_name, "mean", self.mean))
        stddev = check_number(self.class_name, "stddev", self.stddev, 0.0, low_open=True)
        object.__setattr__(self, "stddev", stddev)

    def __call__(self, rng: RandomSource, fan_in: int, fan_out: int) -> float:
        return rng.gauss(self.mean, self.stddev)


@dataclass(frozen=True)
class TruncatedNormal(RandomNormal):
    """N(mean, stddev²) with every draw beyond 2·stddev from the mean drawn again, as Keras does."""

    class_name: ClassVar[str] = "TruncatedNormal"

    def __call__(self, rng: RandomSource, fan_in: int, fan_out: int) -> float:
        return _truncated_gauss(rng, self.mean, self.stddev)


@dataclass(frozen=True)
class GlorotUniform(Initializer):
    """U(−a, a), a = √(6 / (fan_in + fan_out)): the variance 2 / (fan_in + fan_out) of Glorot & Bengio."""

    class_name: ClassVar[str] = "GlorotUniform"

    def __call__(self, rng: RandomSource, fan_in: int, fan_out: int) -> float:
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit)


@dataclass(frozen=True)
class GlorotNormal(Initializer):
    """A truncated normal with the variance 2 / (fan_in + fan_out) (Keras 3's GlorotNormal)."""

    class_name: ClassVar[str] = "GlorotNormal"

    def __call__(self, rng: RandomSource, fan_in: int, fan_out: int) -> float:
        return _truncated_gauss(rng, 0.0, math.sqrt(2.0 / (fan_in + fan_out)) / TRUNCATED_STD)


@dataclass(frozen=True)
class HeUniform(Initializer):
    """U(−a, a), a = √(6 / fan_in): the variance 2 / fan_in of He et al., for ReLU layers."""

    class_name: ClassVar[str] = "HeUniform"

    def __call__(self, rng: RandomSource, fan_in: int, fan_out: int) -> float:
        limit = math.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit)


@dataclass(frozen=True)
class HeNormal(Initializer):
    """The variance 2 / fan_in from a normal: truncated as in Keras 3 (the default), or not, as
    PyTorch's `kaiming_normal_` and micrograd's "he" draw it (`truncated=False`)."""

    truncated: bool = True
    class_name: ClassVar[str] = "HeNormal"

    def __post_init__(self) -> None:
        if not isinstance(self.truncated, bool):
            raise TypeError(f"HeNormal: truncated must be True or False, got {self.truncated!r:.60}")

    def __call__(self, rng: RandomSource, fan_in: int, fan_out: int) -> float:
        if self.truncated:
            return _truncated_gauss(rng, 0.0, math.sqrt(2.0 / fan_in) / TRUNCATED_STD)
        return rng.gauss(0.0, math.sqrt(2.0 / fan_in))


#: Every initialiser by name: micrograd's first (the names `MLP(init=)` always took), then Keras's.
INITIALIZERS: dict[str, Initializer] = {
    "uniform": RandomUniform(-1.0, 1.0),
    "normal": RandomNormal(0.0, 1.0),
    "xavier": GlorotUniform(),
    "he": HeNormal(truncated=False),
    "zeros": Constant(0.0),
    "ones": Constant(1.0),
    "random_uniform": RandomUniform(),
    "random_normal": RandomNormal(),
    "truncated_normal": TruncatedNormal(),
    "glorot_uniform": GlorotUniform(),
    "glorot_normal": GlorotNormal(),
    "he_uniform": HeUniform(),
    "he_normal": HeNormal(),
}

_CLASSES: dict[str, type[Initializer]] = {
    cls.class_name: cls
    for cls in (
        Constant,
        RandomUniform,
        RandomNormal,
        TruncatedNormal,
        GlorotUniform,
        GlorotNormal,
        HeUniform,
        HeNormal,
    )
}

#: micrograd's own names (see the module's docstring); the rest are Keras's.
MICROGRAD_NAMES = ("uniform", "normal", "xavier", "he")

InitializerLike = str | Initializer


def get_initializer(where: str, argument: str, init: Any) -> Initializer:
    """The initialiser `init` names (a name of INITIALIZERS), is (an `Initializer`), or describes
    (what `initializer_config` wrote: {"class_name": "RandomNormal", "config": {"stddev": 3.0}}).

    `where` and `argument` name the caller in errors: "Dense: unknown kernel_initializer 'glorot'".
    """
    where = f"{where}: " if where else ""
    if type(init) in _CLASSES.values():  # one of this module's, which a model file can write and read back
        return init
    if isinstance(init, str):
        if init not in INITIALIZERS:
            raise ValueError(f"{where}unknown {argument} {init!r:.60}; choose one of: {', '.join(INITIALIZERS)}")
        return INITIALIZERS[init]
    if isinstance(init, Mapping) and set(init) == {"class_name", "config"}:
        cls = _CLASSES.get(init["class_name"]) if isinstance(init["class_name"], str) else None
        if cls is None:
            raise ValueError(
                f"{where}{argument} has unknown class_name {init['class_name']!r:.60}; one of: {', '.join(_CLASSES)}"
            )
        settings = init["config"]
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        if not isinstance(settings, Mapping) or not set(settings) <= known:
            raise ValueError(
                f"{where}{argument} {cls.class_name} takes the settings {sorted(known)}, got {settings!r:.60}"
            )
        return cls(**settings)
    raise TypeError(
        f"{where}{argument} must be a name such as 'glorot_uniform' or an initializer of "
        f"micrograd.nn.initializers such as RandomNormal(stddev=1.0), got {init!r:.60}"
    )


def initializer_config(init: InitializerLike) -> str | dict[str, Any]:
    """What a model file writes for `init`: its name when it has one (Keras's before micrograd's:
    GlorotUniform() is "glorot_uniform", not "xavier"), else its class and settings."""
    if isinstance(init, str):
        return init
    names = sorted(INITIALIZERS, key=lambda name: name in MICROGRAD_NAMES)  # stable: Keras's first
    for name in names:
        if INITIALIZERS[name] == init:  # dataclass equality: same class, same settings
            return name
    return {"class_name": init.class_name, "config": init.get_config()}


__all__ = [
    "INITIALIZERS",
    "MICROGRAD_NAMES",
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "InitializerLike",
    "RandomNormal",
    "RandomSource",
    "RandomUniform",
    "TruncatedNormal",
    "get_initializer",
    "initializer_config",
]
