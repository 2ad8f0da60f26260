"""Synthetic run folders for the report tests, made with the real types (no simulator needed).

Observations get hand-chosen recorded spikes and final weights from the reference model (or,
for an emulated SpiNNaker run, the fixed-point model's stored integers); ``save_run``
compares them with ``evaluate`` and writes them with ``ValidationRun.save()``.
"""

from dataclasses import replace

import numpy as np

from stdp_validation import CONVENTIONS, fixedpoint, predict_weights
from stdp_validation.protocols import RULES, seed_protocol, window_protocol
from stdp_validation.results import Check, Execution, Observation, RunError
from stdp_validation.run.orchestration import ValidationRun, utc_now

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
DELIBERATE_ERROR = 1e-3  # on nest's dt=+10 case, far above the 1e-9 tolerance
EMULATED = "spinnaker[mode=emulated]"
RING_BUFFER_SHIFT = 2
ENCODING = {"ring_buffer_shifts": [9, RING_BUFFER_SHIFT], "synapse_type": 1, "global_weight_scale": 1.0}
TOOLCHAIN_NOTE = "spinnaker: toolchain only (no board configured). Not checked: spikes and learned weights"
EMULATED_NOTE = "spinnaker: sPyNNaker's ARM code in an emulator on the toolchain's bytes"


def _environment(label):
    versions = {"python": "3.11.7", "numpy": "1.26.4", "PyNN": "0.13.0"}
    versions.update({"nest": {"nest-simulator": "3.10.0"}, "brian2": {"brian2": "2.9.0"}}.get(
        label, {"sPyNNaker": "1!7.4.1"}))
    execution = {"nest": Execution.SIMULATED, "brian2": Execution.SIMULATED, EMULATED: Execution.EMULATED}.get(
        label, Execution.TOOLCHAIN_ONLY)
    return {"versions": versions, "platform": "Linux-test", "machine": execution.label}


def observation(backend, protocol, pre, post, *, execution=Execution.SIMULATED, conventions=None, errors=None,
                 final=None, traces=None, notes=(), **extra):
    """An Observation whose final weights are the reference's prediction (+ ``errors``)."""
    conventions = conventions or CONVENTIONS[backend].with_timestep(protocol.timestep)
    initial = [case.initial_weight for case in protocol.cases]
    if final is None:
        final = predict_weights(pre, post, protocol.rule, delay=protocol.delay, initial_weight=initial,
                                conventions=conventions, t_stop=protocol.t_stop)
    final = np.array(final, dtype=float)
    for index, error in (errors or {}).items():
        final[index] += error
    observation = Observation(
        backend=backend, protocol=protocol, conventions=conventions, execution=execution,
        pre_spike_times=[list(map(float, t)) for t in pre], post_spike_times=[list(map(float, t)) for t in post],
        final_weights=[float(w) for w in final], initial_weights=initial,
        intended_post_times=[list(case.post_drive_times) for case in protocol.cases],
        delay=protocol.delay, t_stop=protocol.t_stop, traces=traces or {},
        timings={"build": 0.12, "run": 0.5, "readout": 0.03}, notes=list(notes), **extra,
    )
    observation.environment = _environment(observation.label)
    return observation


def _emulated_window(window, pre, post):
    """An emulated SpiNNaker run whose stored integers are the fixed-point model's."""
    initial = [case.initial_weight for case in window.cases]
    stored = fixedpoint.predict_stored_weights(pre, post, window.rule, delay=window.delay, initial_weight=initial,
                                               timestep=window.timestep, ring_buffer_shift=RING_BUFFER_SHIFT)
    lsb = fixedpoint.weight_lsb(RING_BUFFER_SHIFT)
    return observation("spinnaker", window, pre, post, execution=Execution.EMULATED,
                        final=[int(s) * lsb for s in stored], stored_weights=[int(s) for s in stored],
                        encoding=ENCODING, backend_options={"mode": "emulated"},
                        notes=["emulated: the ARM binaries ran in an emulator, not on a board"])


def _seed_traces(protocol):
    """Plausible v / gsyn traces on the 1 ms grid: exponentials at each drive spike."""
    times = np.arange(0.0, protocol.t_stop + 1.0, protocol.timestep)

    def traces(trains, scale, tau, base, cap):
        rows = []
        for train in trains:
            x = np.full_like(times, base)
            for t in train:
                x += np.where(times >= t, scale * np.exp(-(times - t) / tau), 0.0)
            rows.append(np.minimum(x, cap).tolist())
        return rows

    pre = [c.pre_spike_times for c in protocol.cases]
    post = [c.post_drive_times for c in protocol.cases]
    zeros = [np.zeros_like(times).tolist() for _ in protocol.cases]
    return {
        "v": {"units": "mV", "times": times.tolist(), "pre": traces(pre, 8.0, 10.0, -65.0, -50.0),
              "post": traces(post, 8.0, 10.0, -65.0, -50.0)},
        "gsyn_exc": {"units": "uS", "times": times.tolist(), "pre": traces(pre, 5.0, 5.0, 0.0, 1e9),
                     "post": traces(post, 5.0, 5.0, 0.0, 1e9)},
        "gsyn_inh": {"units": "uS", "times": times.tolist(), "pre": zeros, "post": zeros},
    }


def toolchain_seed(seed):
    checks = [
        Check("seed", "network maps", "placed, routed and data generated", "1 post core", True, "mapping finished"),
        Check("seed", "A+ term is absolute", 16384, 16384, None, "w_max·g = g: cannot tell the two apart"),
        Check("seed", "amplitude convention", "A·w_max", "A", True, "cross-backend divergence, modelled",
              kind="divergence"),
        Check("seed", "simultaneous spikes", "<= 100", {"count": 1}, True, "sPyNNaker warns above 100", kind="info"),
    ]
    return observation("spinnaker", seed, [[] for _ in seed.cases], [[] for _ in seed.cases],
                        execution=Execution.TOOLCHAIN_ONLY, final=[c.initial_weight for c in seed.cases],
                        encoding=ENCODING, checks=checks,
                        notes=["NOT board output: final_weights are the INITIAL weights"])


def save_run(directory, observations=(), *, results=(), command="stdp-validate", protocols=None, errors=(),
             skipped=None, notes=None):
    """Compare ``observations`` (evaluate), write them, add ready-made ``results`` (ProtocolResult
    objects without observation files) and write results.json into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    kinds = {o.label: o.execution for o in observations}
    for result in results:
        kinds.setdefault(result.backend_label, result.execution)
    names = [o.protocol.name for o in observations] + [r.protocol for r in results]
    run = ValidationRun(directory, command=command, backends=list(kinds),
                        protocols=protocols or list(dict.fromkeys(names)))
    for label, execution in kinds.items():
        first = next((o for o in observations if o.label == label), None)
        run.backend_notes[label] = {"execution": execution.value,
                                    "note": (notes or {}).get(label, f"{label}: {execution.label}"),
                                    "environment": first.environment if first else _environment(label)}
    for number, observation in enumerate(observations):
        path = directory / "observations" / f"{number}-{observation.backend}.json"
        observation.save(path)
        run.record(observation, str(path.relative_to(directory)))
    for result in results:
        run.record(result)
    run.errors.extend(errors)
    run.skipped = dict(skipped or {})
    run.finished = utc_now()
    run.save()
    return directory


def build_run(directory):
    """Write a synthetic run folder (results.json + observations/) into ``directory``; return it."""
    # window: pre at 100 ms, post at 90, 100, 110 ms. NEST gets a trailing pre spike 100 ms
    # after each case's last spike (deferred update); its dt=+10 case carries the error.
    window = window_protocol([-10, 0, 10])
    post = [[90.0], [100.0], [110.0]]
    trailing = [[100.0, 200.0], [100.0, 200.0], [100.0, 210.0]]
    observations = [
        observation("nest", window, trailing, post, errors={2: DELIBERATE_ERROR}),
        observation("brian2", window, [[100.0]] * 3, post),
        _emulated_window(window, trailing, post),
    ]
    # Brian2 under a multiplicative rule applies the additive one: a known defect.
    multiplicative = window.with_rule(RULES["pair-multiplicative"])
    additive = predict_weights([[100.0]] * 3, post, window.rule, delay=1.0, initial_weight=0.5,
                               conventions=CONVENTIONS["brian2"].with_timestep(window.timestep), t_stop=window.t_stop)
    observations.append(observation("brian2", multiplicative, [[100.0]] * 3, post, final=additive))
    # seed: the notebook's network; hand-chosen recorded spikes 1 ms after the drive.
    seed = seed_protocol()
    seed_pre = [[t + 1.0 for t in case.pre_spike_times] for case in seed.cases]
    seed_post = [[t + 1.0 for t in case.post_drive_times] for case in seed.cases]
    for backend in ("nest", "brian2"):
        observations.append(observation(backend, seed, seed_pre, seed_post, traces=_seed_traces(seed)))
    observations.append(toolchain_seed(seed))
    # hostile labels: a protocol and a case named like a script tag.
    hostile = window_protocol([-5, 5])
    hostile = replace(hostile, name=HOSTILE,
                      cases=(replace(hostile.cases[0], label=HOSTILE), replace(hostile.cases[1], label="dt=+5 & <b>")))
    observations.append(observation("nest", hostile, [[100.0, 200.0], [100.0, 205.0]], [[95.0], [105.0]]))
    error = RunError("brian2", "bounds", f"RuntimeError: {HOSTILE}",
                     "Traceback (most recent call last):\n  ...\nRuntimeError: <boom>")
    return save_run(directory, observations, command=f"stdp-validate --out reports --protocol '{HOSTILE}'",
                    protocols=["window", "seed", HOSTILE], errors=[error],
                    skipped={"hardware-spinnaker": f"no board reachable {HOSTILE}"},
                    notes={"spinnaker": TOOLCHAIN_NOTE, EMULATED: EMULATED_NOTE})
