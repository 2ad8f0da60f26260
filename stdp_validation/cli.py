"""The ``stdp-validate`` command.

``stdp-validate`` runs every protocol on every installed default backend, prints a summary
and writes ``reports/<timestamp>/results.json`` plus the observations. Exit status: 0 when
every case passed or failed only through a known defect, 1 when a case failed or a run
raised, 2 for bad input (nothing was run), 130 when interrupted.

``stdp-validate revalidate PATH`` compares saved observations (a JSON file or a run folder)
with the reference again, anywhere, without a simulator.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from .backends import BACKENDS, DEFAULT_BACKENDS
from .errors import ParameterError
from .protocols import PROTOCOLS, RULES

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser():
    parser = argparse.ArgumentParser(
        prog="stdp-validate",
        description="Validate pair-based STDP on simulators against the reference model.",
        epilog="Subcommands: 'stdp-validate revalidate PATH' re-checks saved observations; "
        "'stdp-validate nightly --archive DIR' runs the board suite and flags regressions. "
        "Exit status 0: all passed (known defects allowed); 1: a case failed; 2: bad input.",
    )
    parser.add_argument("--backend", action="append", metavar="NAME",
                        help=f"backend to run, repeatable; one of {', '.join(sorted(BACKENDS))} "
                        f"(default: {', '.join(DEFAULT_BACKENDS)})")
    parser.add_argument("--protocol", action="append", metavar="NAME",
                        help=f"protocol to run, repeatable; one of {', '.join(PROTOCOLS)} (default: all)")
    parser.add_argument("--rule", metavar="LABEL",
                        help=f"run the synthetic protocols under this rule instead of their own; one of "
                        f"{', '.join(RULES)} (the seed network keeps its rule)")
    parser.add_argument("--seed", type=_non_negative_int, metavar="N",
                        help="random seed of the poisson protocol (default: fixed, 20261126)")
    parser.add_argument("--out", default="reports", metavar="DIR",
                        help="folder for the run's report folder (default: reports/)")
    _add_spinnaker_cfg(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def _add_spinnaker_cfg(parser):
    parser.add_argument("--spinnaker-cfg", metavar="PATH",
                        help="sPyNNaker cfg naming a board ([Machine] machine_name + version, or spalloc_server); "
                        "without it SpiNNaker runs on its virtual board")


def _backend_options(args):
    """SpiNNaker's board: --spinnaker-cfg, else a machine named in the user's own sPyNNaker cfg."""
    if "spinnaker" not in (args.backend or ("spinnaker",)):
        return None
    from .backends import unavailable_reason

    if unavailable_reason("spinnaker"):
        return None
    from .backends.spinnaker import board_cfg_path

    cfg = board_cfg_path(args.spinnaker_cfg)
    return {"spinnaker": {"cfg_path": cfg}} if cfg else None


def build_nightly_parser():
    from .nightly import DEFAULT_SLOWER_FACTOR

    parser = argparse.ArgumentParser(
        prog="stdp-validate nightly",
        description="Run the suite into ARCHIVE/<date>/, compare with the previous night, exit 1 on a regression.",
    )
    parser.add_argument("--archive", required=True, metavar="DIR", help="folder that keeps one sub-folder per night")
    _add_spinnaker_cfg(parser)
    parser.add_argument("--backend", action="append", metavar="NAME", help="backends (default: spinnaker)")
    parser.add_argument("--protocol", action="append", metavar="NAME", help="protocols (default: all)")
    parser.add_argument("--slower-factor", type=float, default=DEFAULT_SLOWER_FACTOR, metavar="X",
                        help=f"flag a timing phase slower than X times last night's (default {DEFAULT_SLOWER_FACTOR})")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text!r}")
    return value


def build_revalidate_parser():
    parser = argparse.ArgumentParser(
        prog="stdp-validate revalidate",
        description="Compare saved observations with the reference model again (no simulator needed).",
    )
    parser.add_argument("path", help="an observation JSON file, or a run folder with observations/")
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["revalidate"]:
            return revalidate_command(build_revalidate_parser().parse_args(argv[1:]))
        if argv[:1] == ["nightly"]:
            return nightly_command(build_nightly_parser().parse_args(argv[1:]))
        return validate_command(build_parser().parse_args(argv), argv)
    except ParameterError as error:
        print(f"stdp-validate: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def validate_command(args, argv):
    from .report import write_report
    from .validation import run_validation, summary_table

    progress = (lambda line: None) if args.quiet else None
    command = shlex.join(["stdp-validate", *argv])
    run = run_validation(args.backend, args.protocol, args.out, command=command, progress=progress,
                         rule=args.rule, seed=args.seed, backend_options=_backend_options(args))
    print(summary_table(run))
    print(f"results: {run.results_file}")
    print(f"report: {write_report(run.directory)}")
    if run.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if run.failed else EXIT_OK


def nightly_command(args):
    from .nightly import run_nightly

    progress = (lambda line: None) if args.quiet else None
    night, comparison = run_nightly(args.archive, backends=args.backend or ("spinnaker",),
                                    backend_options=_backend_options(args), protocols=args.protocol,
                                    slower_factor=args.slower_factor, progress=progress)
    for line in comparison["changes"]:
        print(f"change: {line}")
    for line in comparison["regressions"]:
        print(f"REGRESSION: {line}")
    print(f"night: {night}  (compared with {comparison['previous'] or 'nothing: first night'})")
    print(f"report: {night / 'index.html'}")
    return EXIT_FAILED if comparison["regressions"] else EXIT_OK


def revalidate_command(args):
    from .observation import Observation
    from .validation import result_from_observation

    path = Path(args.path)
    if path.is_dir():
        files = sorted((path / "observations").glob("*.json")) or sorted(path.glob("*.json"))
        files = [f for f in files if f.name != "results.json"]
        if not files:
            raise ParameterError(f"PATH {str(path)!r} holds no observation JSON files")
    elif path.exists():
        files = [path]
    else:
        raise ParameterError(f"PATH {str(path)!r} does not exist")
    failed = False
    unreadable = []
    for file in files:
        try:
            result = result_from_observation(Observation.load(file), str(file))
        except ParameterError as error:  # name the file, check the others
            unreadable.append(file)
            print(f"stdp-validate: error: {file}: {error}", file=sys.stderr)
            continue
        failed |= result.failed
        ratio = result.worst_error_ratio
        line = (f"{file}: {result.backend} {result.protocol} ({result.rule}): {result.count('pass')} passed, "
                f"{result.count('fail')} failed, {result.count('known_defect')} known defects")
        if result.count("not_run"):
            line += f", {result.count('not_run')} not run (virtual board: no weights to compare)"
        print(line + (f", worst error/tolerance {ratio:.3g}" if ratio is not None else ""))
    if unreadable:
        return EXIT_BAD_INPUT
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
