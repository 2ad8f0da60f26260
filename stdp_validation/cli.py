"""The ``stdp-validate`` command."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from .conventions import CONVENTIONS
from .reference import stdp_window
from .rules import AdditiveWeightDependence, SpikePairRule, STDPRule

WINDOW_BACKENDS = ("nest", "brian2", "spinnaker")


def print_window_table(rule, lags, out=sys.stdout):
    """Predicted Δw of one isolated pair per emission-time lag, under each backend's conventions."""
    out.write(f"STDP window for {rule.label} {rule.timing}, {rule.weight}, delay 1 ms\n")
    out.write("Δt = t_post − t_pre (ms, emission times); columns: Δw as each backend computes it\n")
    header = f"{'Δt':>7}" + "".join(f"{name:>14}" for name in WINDOW_BACKENDS)
    out.write(header + "\n")
    delay = 1.0
    columns = []
    for name in WINDOW_BACKENDS:
        conventions = CONVENTIONS[name]
        f = conventions.dendritic_delay_fraction
        # synapse lag = emission Δt + dendritic part − axonal part of the delay
        columns.append(stdp_window(lags + f * delay - (1 - f) * delay, rule, conventions))
    for index, lag in enumerate(lags):
        out.write(f"{lag:>7.1f}" + "".join(f"{column[index]:>14.6g}" for column in columns) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="stdp-validate", description=__doc__)
    parser.parse_args(argv)
    rule = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.012), AdditiveWeightDependence(0.0, 1.0))
    print_window_table(rule, np.arange(-20.0, 21.0, 2.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
