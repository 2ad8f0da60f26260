"""Options shared by the ``stdp-validate`` command and the pytest plugin, each defined once.

``Option.add_to`` works on an :class:`argparse.ArgumentParser` and on a pytest option group
alike (both take argparse-style arguments).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backends import BACKENDS, DEFAULT_BACKENDS
from ..protocols import PROTOCOL_FAMILIES, PROTOCOLS


@dataclass(frozen=True)
class Option:
    flags: tuple
    settings: dict = field(default_factory=dict)

    def add_to(self, parser, **overrides):
        """Add this option to an argparse parser or a pytest option group."""
        adder = getattr(parser, "add_argument", None) or parser.addoption
        adder(*self.flags, **{**self.settings, **overrides})


BACKEND = Option(("--backend",), {
    "action": "append", "metavar": "NAME",
    "help": f"backend to run, repeatable; one of {', '.join(sorted(BACKENDS))}, optionally with options as in "
            f"results, e.g. 'nest[spike_precision=off_grid]' (default: {', '.join(DEFAULT_BACKENDS)})",
})
PROTOCOL = Option(("--protocol",), {
    "action": "append", "metavar": "NAME",
    "help": f"protocol to run, repeatable; one of {', '.join([*PROTOCOLS, *PROTOCOL_FAMILIES])} (default: all)",
})
SPINNAKER_CFG = Option(("--spinnaker-cfg",), {
    "metavar": "PATH",
    "help": "sPyNNaker cfg naming a board ([Machine] machine_name + version, or spalloc_server); without it "
            "SpiNNaker runs without a board",
})

SHARED_OPTIONS = (BACKEND, PROTOCOL, SPINNAKER_CFG)
