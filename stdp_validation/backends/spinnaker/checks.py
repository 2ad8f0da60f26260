"""Toolchain checks: what sPyNNaker encoded for a protocol, against the rule and the models.

Pure functions of ``(protocol, encoding)``, where ``encoding`` is the JSON-ready record
:func:`~.readout.read_encoding` takes from a mapped network (kept as
``Observation.encoding``), so every check can be repeated offline and is tested without
sPyNNaker installed. Sources: sPyNNaker 1!7.4.1 host code
(``spynnaker/pyNN/models/neuron/population_vertex.py`` ring-buffer shifts and weight scales,
``.../plasticity/stdp/common.py`` ``get_exp_lut_array``, ``synapse_dynamics_stdp.py`` and the
weight-dependence classes for the region layout, ``spinn_front_end_common/interface/ds/data_type.py``
for S16.15).
"""

from __future__ import annotations

import numpy as np

from ... import fixedpoint
from ...conventions import exponential_table_length
from ...results.observation import Check, CheckKind

#: The largest single weight change must span at least this many weight LSBs, otherwise the
#: floor at every write-back (up to 1 LSB per presynaptic spike) dominates what is learned.
MIN_AMPLITUDE_IN_LSB = 16
#: sPyNNaker warns when one SpikeSourceArray sends more spikes than this in one time step
#: (``spike_source_array_vertex.py`` TOO_MANY_SPIKES).
TOO_MANY_SIMULTANEOUS_SPIKES = 100
#: Region of the STDP parameters ("synapseDynamicsParams") in sPyNNaker 1!7.4.1.
EXPECTED_SYNAPSE_DYNAMICS_REGION = 7
_WORD_NAMES = ("w_min", "w_max", "A_plus", "A_minus")


def decode_synapse_dynamics_region(words, n_synapse_types):
    """Split the raw 32-bit words of the synapse-dynamics region into its parts.

    Layout (``SynapseDynamicsSTDP.write_parameters`` then the timing and weight dependences):
    a ``backprop_delay`` word; the τ+ and τ− tables, each a ``uint16`` [size, shift] header
    word then size/2 words of 4.11 entries; per synapse type four S16.15 words
    (w_min, w_max, A+, A−). Returns ``{"backprop_delay", "tau_plus": {"size", "shift",
    "entries"}, "tau_minus": …, "per_type": [[4 raw words] per type], "extra_words"}``.
    Raises ``ValueError`` if the words do not have that shape.
    """
    words = np.asarray(words, dtype=np.uint32)
    position = 0

    def take(count, what):
        nonlocal position
        if position + count > len(words):
            raise ValueError(f"region ends after {len(words)} words while reading {what}")
        chunk = words[position:position + count]
        position += count
        return chunk

    backprop = int(take(1, "the backprop_delay word")[0])
    tables = {}
    for name in ("tau_plus", "tau_minus"):
        header = int(take(1, f"the {name} table header")[0])
        size, shift = header & 0xFFFF, header >> 16
        if size % 2:
            raise ValueError(f"{name} table size {size} is odd (sPyNNaker pads tables to an even size)")
        entries = take(size // 2, f"the {name} table").view(np.uint16).astype(np.int64)
        tables[name] = {"size": size, "shift": shift, "entries": entries.tolist()}
    per_type = take(4 * n_synapse_types, "the weight-dependence words").astype(np.uint32).view(np.int32)
    return {
        "backprop_delay": backprop,
        "tau_plus": tables["tau_plus"],
        "tau_minus": tables["tau_minus"],
        "per_type": per_type.reshape(n_synapse_types, 4).astype(np.int64).tolist(),
        "extra_words": int(len(words) - position),
    }


def _lut_from_words(words):
    half = np.asarray(words, dtype=np.uint32).view(np.uint16).astype(np.int64)
    return {"size": int(half[0]), "shift": int(half[1]), "entries": half[2:].tolist()}


def _compare_lists(expected, observed):
    expected, observed = list(expected), list(observed)
    if len(expected) != len(observed):
        return False, f"lengths differ: expected {len(expected)}, observed {len(observed)}"
    for k, (e, o) in enumerate(zip(expected, observed)):
        if e != o:
            return False, f"first difference at index {k}: expected {e}, observed {o}"
    return True, f"all {len(expected)} equal"


def _lut_summary(entries):
    entries = list(entries)
    if len(entries) <= 6:
        return {"size": len(entries), "entries": entries}
    return {"size": len(entries), "first": entries[:3], "last": entries[-3:]}


def most_simultaneous_spikes(trains, timestep, population):
    """The time step in which one ``SpikeSourceArray`` population sends the most spikes
    (ticks as sPyNNaker computes them, :func:`~stdp_validation.conventions.ceil_microsecond_ticks`)."""
    from ...conventions import ceil_microsecond_ticks

    ticks = np.concatenate([ceil_microsecond_ticks(train, timestep) for train in trains if len(train)] or [[]])
    if not len(ticks):
        return {"population": population, "time_ms": None, "count": 0}
    values, counts = np.unique(ticks.astype(np.int64), return_counts=True)
    best = int(np.argmax(counts))  # the earliest of the most crowded steps
    return {"population": population, "time_ms": round(float(values[best]) * fixedpoint.timestep_us(timestep) / 1000.0, 6),
            "count": int(counts[best])}


def toolchain_checks(protocol, encoding):
    """The :class:`~stdp_validation.results.Check` records of one protocol's encoding.

    Compares the encoded STDP region of every post core with the rule, with sPyNNaker's own
    host encoders and with the fixed-point model (:func:`stdp_validation.fixedpoint.encode_rule`);
    checks the weight scale and LSB, the initial-weight quantisation and the amplitude design
    rule; reports the amplitude convention against NEST and Brian2 as a divergence. Valid for
    a mapping-only run and after a board run alike.
    """
    name = protocol.name
    rule = protocol.rule
    timing, bounds = rule.timing, rule.weight
    checks = []

    def add(check_name, expected, observed, passed, reason, kind=CheckKind.CHECK):
        checks.append(Check(name, check_name, expected, observed, None if passed is None else bool(passed),
                            reason, kind))

    binaries = encoding["binaries"]
    add("network maps", "placed, routed and data generated",
        f"{len(encoding['cores'])} post core(s) with synapse processing; binaries {', '.join(binaries)}", True,
        "sPyNNaker's mapping (partitioning, placement, routing, binary search, data specification) finished "
        f"for population {encoding['population']!r}")
    found = encoding.get("binaries_found", {})
    missing = sorted(b for b, ok in found.items() if not ok)
    add("binaries exist in the installed sPyNNaker", "every binary of the post cores",
        "all found" if not missing else f"missing: {', '.join(missing)}", None if not found else not missing,
        "a mapping-only run chooses binaries but never loads them; a board run fails to load a missing one "
        "(1!7.4.1 ships no combined IF_cond_exp binary for multiplicative STDP, for example)")
    regions = sorted({c["region"] for c in encoding["cores"]})
    add("synapse dynamics region number", EXPECTED_SYNAPSE_DYNAMICS_REGION, regions or None,
        bool(regions) and regions == [EXPECTED_SYNAPSE_DYNAMICS_REGION],
        "REGIONS.SYNAPSE_DYNAMICS of the post cores (region 7 in sPyNNaker 1!7.4.1)")

    # -- weight scale, LSB ------------------------------------------------------------------------
    conductance = "cond" in encoding["cell_type"].lower()  # IF_cond_exp is IFCondExpBase
    g_expected = fixedpoint.global_weight_scale(conductance)
    g = encoding["global_weight_scale"]
    add("global weight scale g", g_expected, g, g == g_expected,
        f"{encoding['cell_type']}: {fixedpoint.CONDUCTANCE_WEIGHT_SCALE:g} for conductance-based input, 1 for "
        "current-based (input_type_conductance.py / input_type_current.py)")
    syn = encoding["synapse_type"]
    shift = encoding["ring_buffer_shifts"][syn]
    scale = encoding["weight_scales"][syn]
    add(f"weight scale of the {encoding['receptor']} synapse type", 2.0 ** (15 - shift) * g, scale,
        scale == 2.0 ** (15 - shift) * g, f"2^(15−s)·g with ring-buffer shift s = {shift} "
        "(PopulationVertex.get_weight_scales)")
    lsb = 1.0 / scale if scale else float("nan")
    model_lsb = fixedpoint.weight_lsb(shift, conductance)
    add("weight LSB equals fixedpoint.weight_lsb", {"ring_buffer_shift": shift, "lsb": model_lsb},
        {"ring_buffer_shift": shift, "lsb": lsb}, None if not scale else lsb == model_lsb,
        f"LSB_w = 2^(s−15)/g; every ring-buffer shift of {encoding['population']!r}: "
        f"{encoding['ring_buffer_shifts']}")
    if rule.is_multiplicative:
        a_weight = max(abs(timing.A_plus), abs(timing.A_minus)) * (bounds.w_max - bounds.w_min)
        what = "max(A+, A−)·(w_max − w_min)"
    else:
        a_weight = max(abs(timing.A_plus), abs(timing.A_minus))
        what = "max(A+, A−) (absolute, weight units)"
    in_lsb = a_weight / lsb if scale else float("nan")
    add("amplitude resolution (design rule)", f">= {MIN_AMPLITUDE_IN_LSB} LSB", round(in_lsb, 3),
        in_lsb >= MIN_AMPLITUDE_IN_LSB,
        f"{what} = {a_weight:g} spans {in_lsb:.3g} weight LSBs of {lsb:.3g}; below {MIN_AMPLITUDE_IN_LSB} the "
        "floor at every write-back (up to 1 LSB per pre spike) dominates the learned change")
    largest = bounds.w_max * scale
    add("w_max fits the 16-bit weight", "<= 65535", largest, largest <= 0xFFFF, "stored weights are uint16")
    stages = encoding["delay_stages"]
    add("no delay-extension stage", 0, stages, None if stages is None else stages == 0,
        "delays beyond the post core's ring buffer go through a delay-extension core, which acts as an axonal "
        "delay for STDP; neither the float nor the fixed-point model handles it (synapse_io.py)")
    bursts = encoding.get("simultaneous_source_spikes")
    if bursts:
        worst = max(bursts, key=lambda b: b["count"])
        add("simultaneous spikes per SpikeSourceArray", f"<= {TOO_MANY_SIMULTANEOUS_SPIKES}", worst,
            worst["count"] <= TOO_MANY_SIMULTANEOUS_SPIKES,
            "sPyNNaker warns above this many spikes of one source population in one time step (\"Danger of "
            "SpikeSourceArray sending too many spikes at the same time\"): on a board they can arrive late and be "
            "dropped, losing STDP events", kind=CheckKind.INFO)

    # -- initial weights ------------------------------------------------------------------------------
    initial = np.asarray([case.initial_weight for case in protocol.cases], dtype=float)
    readback = encoding["initial_weights_read"]
    if readback is None:
        add("initial weights quantised", "rint(w·scale)/scale for every synapse", None, None,
            "not checkable after a board run (Projection.get returns the learned weights)")
    elif scale and len(readback) == len(initial):
        expected = fixedpoint.stored_weight_to_pynn(fixedpoint.encode_weight(initial, shift, conductance), shift,
                                                    conductance)
        ok, detail = _compare_lists(expected.tolist(), readback)
        add("initial weights equal the fixed-point model's", "stored_weight_to_pynn(encode_weight(w0))",
            "Projection.get before any run", ok,
            f"host encoding of the initial weight, round-half-even (synapse_io.py); {detail}; largest quantisation "
            f"error {float(np.max(np.abs(np.asarray(readback) - initial))):.3g} ≤ LSB/2 = {lsb / 2:.3g}")
    else:
        add("initial weights equal the fixed-point model's", len(initial), len(readback), False,
            "one read-back weight per case")

    # -- the encoded STDP region ----------------------------------------------------------------------
    dt_ms = encoding["timestep_ms"]
    host = encoding["host_reference"]
    host_luts = {"tau_plus": _lut_from_words(host["tau_plus_lut_words"]),
                 "tau_minus": _lut_from_words(host["tau_minus_lut_words"])}
    n_types = encoding["n_synapse_types"]
    taus = {"tau_plus": timing.tau_plus, "tau_minus": timing.tau_minus}
    host_words = [host["s1615"][k] for k in ("w_min", "w_max", "a_plus", "a_minus")]
    encoded = fixedpoint.encode_rule(rule, protocol.timestep, conductance_based=conductance)
    model_words = [encoded.w_min_bits, encoded.w_max_bits, encoded.a_plus_bits, encoded.a_minus_bits]
    model_region = np.asarray(encoded.region_words(n_types, backprop_delay=encoding["backprop_delay"]),
                              dtype=np.uint32).tolist()
    first_decoded = None
    for core in encoding["cores"]:
        where = f"core {tuple(core['core'])}"
        if core["words"] is None:
            add(f"STDP region present ({where})", "region content", "no content" if core["found"] else "no row",
                False if not core["found"] else None,
                "data-spec database row of the synapse-dynamics region (a shared synapse core references the lead's)")
            continue
        try:
            decoded = decode_synapse_dynamics_region(core["words"], n_types)
        except ValueError as error:
            add(f"STDP region decodes ({where})", "backprop word, 2 tables, 4 words per synapse type",
                f"{len(core['words'])} words", False, str(error))
            continue
        first_decoded = first_decoded or decoded
        size_expected = 4 * (1 + 1 + decoded["tau_plus"]["size"] // 2 + 1 + decoded["tau_minus"]["size"] // 2
                             + 4 * n_types)
        add(f"STDP region size ({where})", size_expected, 4 * len(core["words"]),
            size_expected == 4 * len(core["words"]) and decoded["extra_words"] == 0,
            "1 backprop word + 2 tables (header word + size/2 words) + 4 S16.15 words per synapse type")
        add(f"backprop_delay word ({where})", int(encoding["backprop_delay"]), decoded["backprop_delay"],
            decoded["backprop_delay"] == int(encoding["backprop_delay"]),
            "1 when postsynaptic spikes are shifted by the dendritic delay (STDPMechanism backprop_delay)")
        for table in ("tau_plus", "tau_minus"):
            got = decoded[table]
            length = exponential_table_length(taus[table], dt_ms)
            add(f"{table} table size ({where})", {"size": length, "shift": 0},
                {"size": got["size"], "shift": got["shift"]}, got["size"] == length and got["shift"] == 0,
                f"ln(2048)·τ/dt rounded up to even, τ = {taus[table]:g} ms, dt = {dt_ms:g} ms; the float reference "
                "model cuts exponentials at this length (conventions.exponential_table_length)")
            ok, detail = _compare_lists(host_luts[table]["entries"], got["entries"])
            add(f"{table} table equals sPyNNaker's get_exp_lut_array ({where})",
                _lut_summary(host_luts[table]["entries"]), _lut_summary(got["entries"]),
                ok and host_luts[table]["size"] == got["size"], detail)
            model = fixedpoint.exp_lut(taus[table], encoding["timestep_us"] / 1000.0).tolist()
            ok, detail = _compare_lists(model, got["entries"])
            add(f"{table} table equals fixedpoint.exp_lut ({where})", _lut_summary(model),
                _lut_summary(got["entries"]), ok, detail)
        for t, words in enumerate(decoded["per_type"]):
            add(f"weight-dependence words, synapse type {t} ({where})", dict(zip(_WORD_NAMES, host_words)),
                dict(zip(_WORD_NAMES, words)), words == host_words,
                "S16.15 of w_min·g, w_max·g and "
                + ("A+, A− (multiplicative: dimensionless)" if rule.is_multiplicative
                   else "A+·g, A−·g (additive: absolute)")
                + ", encoded as sPyNNaker's DataType.S1615 does (round-half-even on the decimal value)")
        add(f"S16.15 words equal fixedpoint.encode_rule ({where})", dict(zip(_WORD_NAMES, model_words)),
            dict(zip(_WORD_NAMES, decoded["per_type"][syn])), decoded["per_type"][syn] == model_words,
            "w_min·g, w_max·g, A+ and A− terms of the plastic synapse type")
        ok, detail = _compare_lists(model_region, core["words"])
        add(f"STDP region equals fixedpoint.encode_rule(...).region_words ({where})", f"{len(model_region)} words",
            f"{len(core['words'])} words", ok, detail + " (32-bit words, whole region)")

    # -- the amplitude convention against NEST/Brian2 -------------------------------------------------
    if first_decoded is not None and not rule.is_multiplicative:
        observed = first_decoded["per_type"][syn][2]
        absolute = round(timing.A_plus * g * fixedpoint.S1615_ONE)
        scaled = round(timing.A_plus * bounds.w_max * g * fixedpoint.S1615_ONE)
        distinguishable = absolute != scaled
        add("A+ term is absolute (no w_max factor)", absolute, observed,
            (observed == absolute) if distinguishable else None,
            f"round(A+·g·2^15) = {absolute}; with a w_max factor it would be {scaled}"
            + ("" if distinguishable else " (w_max·g = g here, so this rule cannot tell the two apart)"))
        add("amplitude convention", "NEST/pyNN.brian2: Δw = A·w_max·kernel", "sPyNNaker: Δw = A·kernel", True,
            f"cross-backend divergence (CONVENTIONS amplitude_scaling 'w_max' vs 'absolute'): the same PyNN "
            f"A_plus = {timing.A_plus:g} gives {timing.A_plus * bounds.w_max:g} per unit kernel on NEST/Brian2 "
            f"and {timing.A_plus:g} on SpiNNaker (w_max = {bounds.w_max:g}); modelled by the reference, not a failure",
            kind=CheckKind.DIVERGENCE)
    return checks


def check_summary(checks):
    """Lines for ``Observation.notes``: counts and every failed or skipped check."""
    real = [c for c in checks if c.kind is CheckKind.CHECK]
    failed = [c for c in real if c.passed is False]
    skipped = [c for c in real if c.passed is None]
    divergences = [c for c in checks if c.kind is CheckKind.DIVERGENCE]
    lines = [f"toolchain checks: {sum(c.passed is True for c in real)} passed, {len(failed)} failed, "
             f"{len(skipped)} not checked (of {len(real)}); {len(divergences)} cross-backend divergence(s) reported"]
    lines += [f"check FAILED: {c.name}: expected {c.expected!r}, observed {c.observed!r} ({c.reason})" for c in failed]
    lines += [f"check not made: {c.name}: {c.reason}" for c in skipped[:3]]
    lines += [f"divergence: {c.name}: {c.reason}" for c in divergences]
    lines += [f"warning: {c.name}: observed {c.observed!r}, expected {c.expected!r} ({c.reason})"
              for c in checks if c.kind is CheckKind.INFO and c.passed is False]
    return lines
