"""Reading a run folder into what the report shows: results, observations, benchmarks.

Everything here tolerates partial data: a missing or unreadable observation file leaves the
result with its verdicts only (and the reason it has no observation), a run interrupted
mid-way has no ``finished`` time, a results file written by the pytest plugin may hold the
same (backend, protocol) under several rules.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ParameterError
from ..observation import Observation, read_json

#: Version keys shown in the environment table: column title → keys tried, in order.
VERSION_COLUMNS = {
    "Python": ("python",),
    "numpy": ("numpy",),
    "PyNN": ("PyNN", "pyNN", "pynn"),
    "Brian2": ("brian2", "Brian2"),
    "NEST": ("nest-simulator", "nest", "NEST"),
    "sPyNNaker": ("sPyNNaker", "spynnaker", "SpiNNaker"),
}


@dataclass
class Entry:
    """One (backend, protocol, rule) result of the run, with its observation when readable."""

    index: int
    backend: str
    protocol: str
    rule: str
    summary: dict
    verdicts: list
    timings: dict
    environment: dict
    notes: list
    observation_file: str | None
    observation: Observation | None = None
    observation_problem: str = ""

    @property
    def counts(self):
        """cases, passed, failed, known_defects: from the verdicts (the summary when there are none)."""
        if self.verdicts:
            statuses = [v.get("status") for v in self.verdicts]
            return {"cases": len(statuses), "passed": statuses.count("pass"), "failed": statuses.count("fail"),
                    "known_defects": statuses.count("known_defect")}
        counts = {}
        for key in ("cases", "passed", "failed", "known_defects"):
            value = self.summary.get(key)
            counts[key] = value if isinstance(value, int) and not isinstance(value, bool) else 0
        return counts

    @property
    def failed_checks(self):
        """Toolchain checks (SpiNNaker) that failed, from the summary."""
        value = (self.summary.get("toolchain_checks") or {}).get("failed", 0)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    @property
    def title(self):
        return f"{self.backend} · {self.rule}"

    @property
    def cases(self):
        """The protocol's cases aligned with the verdicts (``None`` where unknown)."""
        if self.observation is None:
            return [None] * len(self.verdicts)
        by_label = {case.label: case for case in self.observation.protocol.cases}
        return [by_label.get(v.get("case")) for v in self.verdicts]

    def case_index(self, label):
        """Index of ``label`` in the observation's arrays, or ``None``."""
        if self.observation is None:
            return None
        return self._indices().get(label)

    def _indices(self):
        if not hasattr(self, "_index_cache"):
            self._index_cache = {c.label: i for i, c in enumerate(self.observation.protocol.cases)}
        return self._index_cache

    def version(self, column):
        versions = (self.environment or {}).get("versions") or {}
        for key in VERSION_COLUMNS[column]:
            if key in versions:
                return str(versions[key])
        return None

    @property
    def is_single_pair(self):
        """Every case is one pre spike and one post drive: a window protocol."""
        if self.observation is None:
            return bool(self.verdicts) and all(v.get("lag") is not None for v in self.verdicts)
        return all(len(c.pre_spike_times) == 1 and len(c.post_drive_times) == 1 for c in self.observation.protocol.cases)

    @property
    def board_output(self):
        """False when the backend says its spikes and weights are not simulation output
        (``environment["board_output"] = False``: a SpiNNaker virtual board)."""
        value = (self.environment or {}).get("board_output")
        return True if value is None else bool(value)

    @property
    def is_seed(self):
        o = self.observation
        return o is not None and (o.protocol.network == "seed" or bool(o.traces))


@dataclass
class RunData:
    directory: Path
    raw: dict
    entries: list
    protocols: list  # protocol names in report order
    benchmark: dict | None = None
    benchmark_source: str = ""
    benchmark_problem: str = ""
    slugs: dict = field(default_factory=dict)

    @property
    def command(self):
        return str(self.raw.get("command") or "")

    @property
    def errors(self):
        return [e for e in self.raw.get("errors") or [] if isinstance(e, dict)]

    @property
    def skipped(self):
        return dict(self.raw.get("skipped_backends") or {})

    @property
    def unsupported(self):
        return [u for u in self.raw.get("unsupported") or [] if isinstance(u, dict)]

    @property
    def known_defects(self):
        return [d for d in self.raw.get("known_defects") or [] if isinstance(d, dict)]

    @property
    def backends(self):
        names = list(self.raw.get("backends") or [])
        for entry in self.entries:
            if entry.backend not in names:
                names.append(entry.backend)
        return names

    def entries_for(self, protocol):
        return [e for e in self.entries if e.protocol == protocol]

    def slug(self, protocol):
        return self.slugs[protocol]


def slugify(text):
    """A fragment safe in ids and file names: letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", str(text)).strip("-") or "x"


def load_run(run_directory, benchmark_json=None):
    """Read ``run_directory/results.json`` and everything it references."""
    directory = Path(run_directory)
    raw = read_json(directory / "results.json", "results")
    if not isinstance(raw, dict):
        raise ParameterError(f"results file {str(directory / 'results.json')!r} must hold a JSON object")
    cache = {}
    entries = []
    for index, result in enumerate(raw.get("results") or []):
        if not isinstance(result, dict):
            continue
        entry = Entry(
            index=index,
            backend=str(result.get("backend", "?")),
            protocol=str(result.get("protocol", "?")),
            rule=str(result.get("rule", "?")),
            summary=dict(result.get("summary") or {}),
            verdicts=[v for v in result.get("verdicts") or [] if isinstance(v, dict)],
            timings=dict(result.get("timings") or {}),
            environment=dict(result.get("environment") or {}),
            notes=list(result.get("notes") or []),
            observation_file=result.get("observation_file"),
        )
        entry.observation, entry.observation_problem = _load_observation(directory, entry.observation_file, cache)
        if entry.observation is not None and len(entry.observation.protocol.cases) != len(entry.observation.final_weights):
            entry.observation, entry.observation_problem = None, "observation does not match its protocol"
        entries.append(entry)
    protocols = [str(p) for p in raw.get("protocols") or [] if isinstance(p, (str, int, float))]
    for entry in entries:
        if entry.protocol not in protocols:
            protocols.append(entry.protocol)
    for error in raw.get("errors") or []:
        if isinstance(error, dict) and error.get("protocol") is not None and str(error["protocol"]) not in protocols:
            protocols.append(str(error["protocol"]))
    slugs, used = {}, set()
    for name in protocols:
        base = slugify(name)
        slug, n = base, 1
        while slug in used:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        slugs[name] = slug
    run = RunData(directory, raw, entries, protocols, slugs=slugs)
    _load_benchmark(run, benchmark_json)
    return run


def _load_observation(directory, name, cache):
    if not name:
        return None, "no observation file recorded for this result"
    path = Path(name)
    if not path.is_absolute():
        path = directory / path
    key = str(path)
    if key not in cache:
        try:
            cache[key] = (Observation.load(path), "")
        except ParameterError as error:
            cache[key] = (None, str(error))
        except Exception as error:  # noqa: BLE001 - a broken file must not stop the report
            cache[key] = (None, f"observation file {str(path)!r} could not be read: {type(error).__name__}: {error}")
    return cache[key]


def _load_benchmark(run, benchmark_json):
    if benchmark_json is not None:
        path = Path(benchmark_json)
    elif (run.directory / "benchmark.json").exists():
        path = run.directory / "benchmark.json"
    else:
        return
    run.benchmark_source = str(path)
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
            raise ValueError("no 'benchmarks' list (not a pytest-benchmark JSON file?)")
        run.benchmark = data
    except (OSError, ValueError) as error:
        run.benchmark_problem = f"{type(error).__name__}: {error}"
