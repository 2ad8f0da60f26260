"""The ``stdp-validate`` command.

``stdp-validate [run] [options]``
    the main job: every protocol on every installed default backend; prints a summary and
    writes ``reports/<timestamp>/`` (results.json, observations, index.html).
``stdp-validate revalidate PATH``
    compares saved observations (a JSON file or a run folder) with the reference again,
    anywhere, without a simulator.
``stdp-validate nightly --archive DIR``
    the board suite into ``DIR/<date>/``, compared with the previous night.

Exit status: 0 when cases were validated and none failed (known defects allowed); 1 when a
case or toolchain check failed, a run raised, or nothing was validated; 2 for bad input
(nothing was run); 130 when interrupted.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time
from pathlib import Path

from .errors import ParameterError
from .protocols import RULES
from .run.options import BACKEND, PROTOCOL, SPINNAKER_CFG

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
SUBCOMMANDS = ("run", "revalidate", "nightly")


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text!r}")
    return value


#: Backends run at once by default: one per usable core (each in its own process).
DEFAULT_JOBS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}")
    return value


def _positive_float(text):
    """A finite number (ranges are checked, with the parameter's name, where it is used)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number; got {text!r}")
    return value


def _network_size(text):
    """``INPUTSxNEURONS`` (e.g. ``1000x100``) as two integers (limits checked where used)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        n_inputs, n_neurons = (int(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be INPUTSxNEURONS, two whole numbers such as 1000x100; "
                                         f"got {text!r}") from None
    return n_inputs, n_neurons


def build_parser():
    """The command's parser: one sub-parser per subcommand, shared options defined once."""
    from .run.nightly import DEFAULT_SLOWER_FACTOR, DEFAULT_SLOWER_SECONDS

    parser = argparse.ArgumentParser(
        prog="stdp-validate",
        description="Validate pair-based STDP on simulators against the reference model. Without a subcommand, "
        "'run' (the main job) is meant.",
        epilog="Exit status 0: validated, nothing failed (known defects allowed); 1: a case failed or nothing was "
        "validated; 2: bad input; 130: interrupted.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{run,revalidate,nightly}")
    run = commands.add_parser("run", help="the main job (the default)",
                              description="Run every protocol on every installed default backend.")
    for option in (BACKEND, PROTOCOL):
        option.add_to(run)
    rules = run.add_mutually_exclusive_group()
    rules.add_argument("--rule", metavar="LABEL",
                       help=f"run the synthetic protocols under this rule alone instead of every rule; one of "
                       f"{', '.join(RULES)} (the seed network keeps its rule)")
    rules.add_argument("--own-rules", action="store_true",
                       help="run each protocol under its own rule only (pair-additive), not the matrix of every "
                       "standard rule (faster)")
    rules.add_argument("--rule-file", metavar="PATH",
                       help="your own rule for the synthetic protocols: a TOML or JSON file with [timing] and "
                       "[weight] tables (see the README)")
    run.add_argument("--timestep", type=_positive_float, metavar="MS",
                     help="simulation time step of the synthetic protocols (ms, at most 1; the seed network keeps its own)")
    run.add_argument("--delay", type=_positive_float, metavar="MS",
                     help="synaptic delay of window, pairing, poisson and bounds (ms, whole time steps)")
    run.add_argument("--initial-weight", type=float, metavar="W",
                     help="initial weight of window, pairing, poisson and delays (the rule's units, within its bounds)")
    run.add_argument("--seed", type=_non_negative_int, metavar="N",
                     help="random seed of the poisson and network protocols (default: fixed, 20261126 and 20261203)")
    run.add_argument("--network-size", type=_network_size, metavar="INPUTSxNEURONS",
                     help="size of the network protocol, e.g. 1000x100 (default 100x4; at most 10^5 synapses)")
    run.add_argument("--network-duration", type=_positive_float, metavar="MS",
                     help="how long the network's Poisson inputs fire (ms, default 10000)")
    run.add_argument("--jobs", type=_positive_int, default=DEFAULT_JOBS, metavar="N",
                     help=f"backends run at once, each in its own process (default: the usable cores, here "
                          f"{DEFAULT_JOBS}; 1: one after another in this process)")
    run.add_argument("--out", default="reports", metavar="DIR",
                     help="folder for the run's report folder (default: reports/)")
    SPINNAKER_CFG.add_to(run)
    run.add_argument("--quiet", action="store_true", help="no progress lines")

    revalidate = commands.add_parser("revalidate", help="re-check saved observations without a simulator",
                                     description="Compare saved observations with the reference model again.")
    revalidate.add_argument("path", help="an observation JSON file, or a run folder with observations/")

    nightly = commands.add_parser("nightly", help="the nightly board job with regression checks",
                                  description="Run the suite into ARCHIVE/<date>/, compare with the previous night, "
                                  "exit 1 on a regression.")
    nightly.add_argument("--archive", required=True, metavar="DIR", help="folder that keeps one sub-folder per night")
    SPINNAKER_CFG.add_to(nightly)
    BACKEND.add_to(nightly, help="backends (default: spinnaker)")
    PROTOCOL.add_to(nightly)
    nightly.add_argument("--slower-factor", type=_positive_float, default=DEFAULT_SLOWER_FACTOR, metavar="X",
                         help=f"flag a timing phase slower than X times last night's (default {DEFAULT_SLOWER_FACTOR})")
    nightly.add_argument("--slower-seconds", type=_positive_float, default=DEFAULT_SLOWER_SECONDS, metavar="S",
                         help="... and by more than S seconds (default %(default)s s: short phases jitter)")
    nightly.add_argument("--keep", type=_non_negative_int, metavar="N",
                         help="keep only the newest N nights in the archive (default: all); the report plots their trends")
    nightly.add_argument("--emulate", action="store_true",
                         help="rehearse the job without a board: SpiNNaker's ARM code in the emulator (every output "
                         "says REHEARSAL); without it and without a board the job refuses to run")
    nightly.add_argument("--own-rules", action="store_true",
                         help="each protocol under its own rule only, not every standard rule")
    nightly.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv[:1] in (["-h"], ["--help"]):
        parser.print_help()
        print("\noptions of the main job (stdp-validate run):")
        parser.parse_args(["run", "--help"])
    if not argv or argv[0] not in SUBCOMMANDS:
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    try:
        if args.command == "revalidate":
            return revalidate_command(args)
        if args.command == "nightly":
            return nightly_command(args)
        return validate_command(args, argv[1:])
    except ParameterError as error:
        print(f"stdp-validate: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def backend_options(backends, spinnaker_cfg):
    """Backend options from the command line (the board cfg; see :func:`backends.board_options`)."""
    from .backends import board_options

    return board_options(backends, spinnaker_cfg)


def validate_command(args, argv):
    from .run.orchestration import run_validation
    from .run.summary import summary_table

    progress = (lambda line: None) if args.quiet else None
    command = shlex.join(["stdp-validate", *argv])
    rule = args.rule
    if args.rule_file:
        from .rules import load_rule_file

        rule = load_rule_file(args.rule_file)
    run = run_validation(args.backend, args.protocol, args.out, command=command, progress=progress,
                         rule=rule, seed=args.seed, timestep=args.timestep, delay=args.delay,
                         initial_weight=args.initial_weight, network_size=args.network_size,
                         rule_matrix=not args.own_rules, jobs=args.jobs,
                         network_duration=args.network_duration,
                         backend_options=backend_options(args.backend, args.spinnaker_cfg))
    print(summary_table(run))
    print(f"results: {run.results_file}")
    from .report import write_report

    started = time.perf_counter()
    report = write_report(run.directory)
    run.timings["report"] = time.perf_counter() - started
    run.save()
    print(f"report: {report} ({run.timings['report']:.1f} s)")
    if run.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if run.failed else EXIT_OK


def nightly_command(args):
    from .backends import BOARD_BACKEND, unavailable_reason
    from .run.nightly import run_nightly

    progress = (lambda line: None) if args.quiet else None
    backends = args.backend or (BOARD_BACKEND,)
    options = backend_options(backends, args.spinnaker_cfg) or {}
    if BOARD_BACKEND in backends and unavailable_reason(BOARD_BACKEND):
        raise ParameterError(f"nightly: the {BOARD_BACKEND} backend cannot run here: {unavailable_reason(BOARD_BACKEND)}")
    if BOARD_BACKEND in backends and "cfg_path" not in options.get(BOARD_BACKEND, {}):
        if not args.emulate:
            raise ParameterError(
                "nightly: no SpiNNaker board configured (--spinnaker-cfg PATH, or a machine named in your own "
                "sPyNNaker cfg); a nightly job without a board would report green every night. To rehearse the "
                "job on sPyNNaker's ARM code in the emulator instead, pass --emulate")
        options[BOARD_BACKEND] = {"emulate": True}
    elif args.emulate:
        raise ParameterError("--emulate rehearses the job without a board; a board is configured "
                             f"({args.spinnaker_cfg or 'from your own sPyNNaker cfg'}) or the spinnaker backend is not "
                             "selected: drop --emulate")
    night, comparison = run_nightly(args.archive, backends=backends, backend_options=options or None,
                                    protocols=args.protocol, slower_factor=args.slower_factor,
                                    slower_seconds=args.slower_seconds, keep=args.keep, progress=progress,
                                    rule_matrix=not args.own_rules)
    if comparison.get("rehearsal"):
        print(comparison["rehearsal"])
    for line in comparison["changes"]:
        print(f"change: {line}")
    for line in comparison["regressions"]:
        print(f"REGRESSION: {line}")
    print(f"night: {night}  (compared with {comparison['previous'] or 'nothing: first night'})")
    print(f"report: {night / 'index.html'}")
    return EXIT_FAILED if comparison["regressions"] else EXIT_OK


def observation_files(path):
    """The observation files of ``path``: the file itself, or a run folder's observations."""
    path = Path(path)
    if path.is_dir():
        files = sorted((path / "observations").glob("*.json")) or sorted(path.glob("*.json"))
        files = [f for f in files if f.name not in ("results.json", "regressions.json")]
        if not files:
            raise ParameterError(f"PATH {str(path)!r} holds no observation JSON files")
        return files
    if path.exists():
        return [path]
    raise ParameterError(f"PATH {str(path)!r} does not exist")


def revalidate_command(args):
    from .results.compare import evaluate
    from .results.observation import Observation

    failed, unreadable = False, []
    for file in observation_files(args.path):
        try:
            observation = Observation.load(file)
            result = evaluate(observation, str(file))
        except ParameterError as error:  # name the file, check the others
            unreadable.append(file)
            print(f"stdp-validate: error: {file}: {error}", file=sys.stderr)
            continue
        failed |= result.status.value in ("fail", "not_run")
        counts = result.counts
        line = (f"{file}: {result.backend_label} {result.protocol} ({result.rule}): {result.status.value}: "
                f"{counts['pass']} passed, {counts['fail']} failed, {counts['known_defect']} known defects")
        if counts["not_run"]:
            line += f", {counts['not_run']} not run ({result.execution.label}: no weights to compare)"
        ratio = result.worst_error_ratio
        print(line + (f", worst error/tolerance {ratio:.3g}" if ratio is not None else ""))
    if unreadable:
        return EXIT_BAD_INPUT
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
