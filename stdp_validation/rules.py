"""Pair-based STDP rules, named and parameterised as in PyNN.

Units follow PyNN: time constants in ms, amplitudes dimensionless, weights (``w_min``,
``w_max``) in the units of the synapse type (nA for current-based, µS for
conductance-based synapses). How an amplitude turns into a weight change (``A_plus``
alone or ``A_plus * w_max``) is a backend convention, see :mod:`stdp_validation.conventions`.

Every value is checked when the object is built: a bad value raises
:class:`~stdp_validation.errors.ParameterError` naming the parameter, the value and the
allowed range.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .errors import SMALLEST_PLAUSIBLE_TAU, ParameterError, check_finite, warn_unit


@dataclass(frozen=True)
class _PairTiming:
    tau_plus: float = 20.0
    tau_minus: float = 20.0
    A_plus: float = 0.01
    A_minus: float = 0.01

    def __post_init__(self):
        for name in ("tau_plus", "tau_minus"):
            value = check_finite(name, getattr(self, name), low=0.0, low_inclusive=False, unit="ms")
            if value < SMALLEST_PLAUSIBLE_TAU:
                warn_unit(f"{name} = {value!r} ms is shorter than {SMALLEST_PLAUSIBLE_TAU} ms: PyNN's time constants "
                          f"are in ms (was it given in seconds? {value!r} s = {value * 1000:g} ms)")
            object.__setattr__(self, name, value)
        # Negative amplitudes (reverse STDP) are legitimate PyNN input; only finiteness is required.
        for name in ("A_plus", "A_minus"):
            object.__setattr__(self, name, check_finite(name, getattr(self, name)))


@dataclass(frozen=True)
class SpikePairRule(_PairTiming):
    """All-to-all pairing: every presynaptic spike pairs with every postsynaptic spike.

    Δw = +A_plus·e^(−s/τ+) for a lag s = t_post − t_pre > 0 and −A_minus·e^(s/τ−) for s < 0
    (times as seen by the synapse, i.e. after the backend's delay convention).
    """


@dataclass(frozen=True)
class SpikeNearestPairRule(_PairTiming):
    """Nearest-neighbour pairing. Which spikes pair is a backend convention
    (``Conventions.nearest_scheme``): sPyNNaker's scheme, or NEST's symmetric,
    presynaptic-centred or restricted scheme (Morrison, Diesmann & Gerstner 2008, fig. 7)."""


@dataclass(frozen=True)
class _Bounds:
    w_min: float = 0.0
    w_max: float = 1.0

    def __post_init__(self):
        w_min = check_finite("w_min", self.w_min)
        w_max = check_finite("w_max", self.w_max)
        if w_min > w_max:
            raise ParameterError(f"w_min must be <= w_max; got w_min={w_min!r} > w_max={w_max!r}")
        object.__setattr__(self, "w_min", w_min)
        object.__setattr__(self, "w_max", w_max)


@dataclass(frozen=True)
class AdditiveWeightDependence(_Bounds):
    """Δw independent of the weight; the weight is clipped to [w_min, w_max]."""


@dataclass(frozen=True)
class MultiplicativeWeightDependence(_Bounds):
    """Potentiation ∝ (w_max − w), depression ∝ (w − w_min)."""


@dataclass(frozen=True)
class AdditivePotentiationMultiplicativeDepression(_Bounds):
    """Potentiation independent of the weight (as the additive rule), depression ∝ (w − w_min)
    (as the multiplicative rule); clipped to [w_min, w_max] (van Rossum, Bi & Turrigiano 2000)."""


@dataclass(frozen=True)
class GutigWeightDependence(_Bounds):
    """Potentiation ∝ ((w_max − w)/S)^μ+, depression ∝ ((w − w_min)/S)^μ−, S = w_max − w_min;
    μ = 0 is the additive rule, μ = 1 the multiplicative one (Gütig et al. 2003, J Neurosci
    23:3697). ``mu_plus``, ``mu_minus`` ≥ 0, dimensionless."""

    mu_plus: float = 0.5
    mu_minus: float = 0.5

    def __post_init__(self):
        super().__post_init__()
        for name in ("mu_plus", "mu_minus"):
            object.__setattr__(self, name, check_finite(name, getattr(self, name), low=0.0))


TIMING_DEPENDENCES = {cls.__name__: cls for cls in (SpikePairRule, SpikeNearestPairRule)}
WEIGHT_DEPENDENCES = {
    cls.__name__: cls
    for cls in (AdditiveWeightDependence, MultiplicativeWeightDependence, AdditivePotentiationMultiplicativeDepression,
                GutigWeightDependence)
}


@dataclass(frozen=True)
class STDPRule:
    """A timing dependence combined with a weight dependence, as PyNN's ``STDPMechanism``."""

    timing: SpikePairRule | SpikeNearestPairRule = field(default_factory=SpikePairRule)
    weight: (AdditiveWeightDependence | MultiplicativeWeightDependence | AdditivePotentiationMultiplicativeDepression
             | GutigWeightDependence) = field(
        default_factory=AdditiveWeightDependence
    )

    def __post_init__(self):
        if not isinstance(self.timing, tuple(TIMING_DEPENDENCES.values())):
            raise ParameterError(
                f"timing must be one of {sorted(TIMING_DEPENDENCES)}; got {self.timing!r}"
            )
        if not isinstance(self.weight, tuple(WEIGHT_DEPENDENCES.values())):
            raise ParameterError(
                f"weight must be one of {sorted(WEIGHT_DEPENDENCES)}; got {self.weight!r}"
            )

    @property
    def is_nearest(self) -> bool:
        return isinstance(self.timing, SpikeNearestPairRule)

    @property
    def is_multiplicative(self) -> bool:
        """Both halves scale with the weight (``MultiplicativeWeightDependence``)."""
        return isinstance(self.weight, MultiplicativeWeightDependence)

    @property
    def depression_multiplicative(self) -> bool:
        """Depression ∝ (w − w_min): the multiplicative rule and the mixed one."""
        return isinstance(self.weight, (MultiplicativeWeightDependence, AdditivePotentiationMultiplicativeDepression))

    @property
    def is_gutig(self) -> bool:
        return isinstance(self.weight, GutigWeightDependence)

    @property
    def weight_dependent(self) -> bool:
        """Some weight change depends on the weight itself (every rule but the additive one)."""
        return not isinstance(self.weight, AdditiveWeightDependence)

    @property
    def label(self) -> str:
        timing = "nearest" if self.is_nearest else "pair"
        weight = {AdditiveWeightDependence: "additive", MultiplicativeWeightDependence: "multiplicative",
                  AdditivePotentiationMultiplicativeDepression: "addpot-muldep",
                  GutigWeightDependence: "gutig"}[type(self.weight)]
        return f"{timing}-{weight}"

    def to_dict(self) -> dict:
        """JSON-ready description; inverse of :meth:`from_dict`."""
        return {
            "timing": {"type": type(self.timing).__name__, **asdict(self.timing)},
            "weight": {"type": type(self.weight).__name__, **asdict(self.weight)},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "STDPRule":
        try:
            timing = dict(data["timing"])
            weight = dict(data["weight"])
            timing_cls = TIMING_DEPENDENCES[timing.pop("type")]
            weight_cls = WEIGHT_DEPENDENCES[weight.pop("type")]
        except (KeyError, TypeError) as error:
            raise ParameterError(f"rule description is incomplete or unknown: {data!r}") from error
        return cls(timing=timing_cls(**timing), weight=weight_cls(**weight))


def load_rule_file(path):
    """An :class:`STDPRule` from a TOML (``.toml``) or JSON (``.json``) file, checked strictly.

    The file has a ``[timing]`` and a ``[weight]`` table, each with its ``type`` (a class name
    of this module, as in PyNN) and every parameter of that type — nothing left to a default,
    nothing unknown::

        [timing]
        type = "SpikePairRule"          # or SpikeNearestPairRule
        tau_plus = 16.8                 # ms
        tau_minus = 33.7                # ms
        A_plus = 0.005
        A_minus = 0.0025

        [weight]
        type = "AdditiveWeightDependence"   # or MultiplicativeWeightDependence, …
        w_min = 0.0                     # nA (current synapses) or µS (conductance synapses)
        w_max = 0.04

    Raises :class:`ParameterError` naming the file and the missing, unknown or mistyped key.
    """
    import json
    import tomllib
    from dataclasses import fields
    from pathlib import Path

    path = Path(path)
    where = f"rule file {str(path)!r}"
    if not path.is_file():
        raise ParameterError(f"{where} does not exist (--rule-file)")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix.lower() == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        else:
            raise ParameterError(f"{where}: the file name must end in .toml or .json; got {path.suffix or 'none'!r}")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ParameterError(f"{where} is not valid {path.suffix[1:].upper()}: {error}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{where} must hold a table (object) with 'timing' and 'weight'")
    unknown = sorted(set(data) - {"timing", "weight"})
    missing = sorted({"timing", "weight"} - set(data))
    if unknown or missing:
        raise ParameterError(f"{where}: " + "; ".join(
            ([f"unknown key(s) {', '.join(unknown)}"] if unknown else [])
            + ([f"missing table(s) {', '.join(missing)}"] if missing else [])) + "; allowed: timing, weight")
    parts = {}
    for section, classes in (("timing", TIMING_DEPENDENCES), ("weight", WEIGHT_DEPENDENCES)):
        table = data[section]
        if not isinstance(table, dict):
            raise ParameterError(f"{where}: {section} must be a table; got {table!r}")
        kind = table.get("type")
        if kind not in classes:
            raise ParameterError(f"{where}: {section}.type must be one of {', '.join(sorted(classes))}; got {kind!r}")
        names = [f.name for f in fields(classes[kind])]
        unknown = sorted(set(table) - set(names) - {"type"})
        missing = [n for n in names if n not in table]
        if unknown or missing:
            raise ParameterError(f"{where}: {section} ({kind}): " + "; ".join(
                ([f"unknown key(s) {', '.join(unknown)}"] if unknown else [])
                + ([f"missing key(s) {', '.join(missing)}"] if missing else []))
                + f"; allowed: type, {', '.join(names)}")
        for name in names:
            value = table[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(f"{where}: {section}.{name} must be a number; got {value!r}")
        parts[section] = classes[kind](**{n: float(table[n]) for n in names})
    return STDPRule(timing=parts["timing"], weight=parts["weight"])
