"""The seed network on emulated SpiNNaker cores, neurons included (tick-level emulation).

The toolchain maps the seed network on a virtual board; every combined core it placed
(``IF_cond_exp.aplx`` for the pre cells, ``IF_cond_exp_stdp_mad_pair_additive.aplx`` for the
post cells) then runs its own neuron update and synapse code tick by tick. Expected values
come from the fixed-point model on the emulated spike ticks and from hand calculation.
"""

import math

import capstone
import numpy as np
import pytest

from stdp_validation.backends.spinnaker import SpinnakerBackend
from stdp_validation.backends.spinnaker.emulator import unavailable_reason
from stdp_validation.backends.spinnaker.emulator.aplx import parse_aplx
from stdp_validation.backends.spinnaker.emulator.core import EmulationFault, Machine, chip_memory_name
from stdp_validation.backends.spinnaker.emulator.emulate import pinned_addresses
from stdp_validation.backends.spinnaker.emulator.locate_neuron import locate_neuron
from stdp_validation.backends.spinnaker.emulator.logdb import LogDatabase
from stdp_validation.backends.spinnaker.emulator.network import RoutingError, route
from stdp_validation.backends.spinnaker.emulator.neuron_core import ChipDevices
from stdp_validation.fixedpoint import predict_stored_weights
from stdp_validation.protocols import seed_protocol
from stdp_validation.results import Execution, Status, evaluate
from support.binaries import model_binary, patched_copy

UNAVAILABLE = SpinnakerBackend.unavailable_reason() or unavailable_reason()
pytestmark = [pytest.mark.spinnaker,
              pytest.mark.skipif(UNAVAILABLE is not None, reason=f"emulated spinnaker unavailable: {UNAVAILABLE}")]

POST_BINARY = "IF_cond_exp_stdp_mad_pair_additive.aplx"


@pytest.fixture(scope="module")
def seed_observation():
    (observation,) = SpinnakerBackend().run([seed_protocol()])
    return observation


# -- locating ---------------------------------------------------------------------------------

def test_the_neuron_locator_agrees_with_the_synapse_locator_on_the_shared_functions():
    # Two independent derivations (different log sites and call-graph rules) of the same functions.
    path = model_binary(POST_BINARY)
    located = locate_neuron(path)
    pinned = pinned_addresses()[located.sha256]["addresses"]
    for name in ("sark_alloc", "spin1_memcpy", "rt_error", "io_printf", "synapses_initialise",
                 "population_table_initialise", "synapse_dynamics_initialise", "population_table_get_first_address",
                 "synapses_process_synaptic_row"):
        assert getattr(located, name) == int(pinned[name], 16), name


def test_the_static_pre_cell_binary_locates():
    located = locate_neuron(model_binary("IF_cond_exp.aplx"))
    assert len({located.neuron_initialise, located.neuron_transfer, located.neuron_do_timestep_update,
                located.timer_callback, located.recording_record, located.synapses_process_synaptic_row}) == 6


# -- routing ----------------------------------------------------------------------------------

def _network(tables, links=None):
    return {"routing_tables": [{"x": x, "y": y, "entries": entries} for (x, y), entries in tables.items()],
            "links": links or {}}


def test_route_delivers_to_the_listed_cores_and_along_links():
    # Chip (0, 0) sends key 0x40 to core 4 and out of link 0 (east) to chip (1, 0), core 7.
    network = _network({(0, 0): [[0x40, 0xFFFFFFC0, [4], [0]]], (1, 0): [[0x40, 0xFFFFFFC0, [7], []]]},
                       {"0,0": {"0": [1, 0]}, "1,0": {"3": [0, 0]}})
    assert sorted(route(network, (0, 0, 5), 0x45)) == [(0, 0, 4), (1, 0, 7)]
    # A locally sent key matching no entry goes nowhere.
    assert route(network, (0, 0, 5), 0x80) == []


def test_route_default_routes_straight_on_and_detects_loops():
    # (1, 0) has no entry: a packet arriving on its west side (link 3) goes on out of link 0.
    network = _network({(0, 0): [[0x0, 0xFFFFFF00, [], [0]]], (2, 0): [[0x0, 0xFFFFFF00, [1], []]]},
                       {"0,0": {"0": [1, 0]}, "1,0": {"0": [2, 0]}})
    assert route(network, (0, 0, 3), 0x12) == [(2, 0, 1)]
    looping = _network({(0, 0): [[0x0, 0xFFFFFF00, [], [0]]], (1, 0): [[0x0, 0xFFFFFF00, [], [3]]]},
                       {"0,0": {"0": [1, 0]}, "1,0": {"3": [0, 0]}})
    with pytest.raises(RoutingError, match="loops"):
        route(looping, (0, 0, 3), 0x12)


def test_faults_name_what_the_address_is_on_the_chip():
    assert "System RAM" in chip_memory_name(0xE5007F00)
    assert "DMA controller" in chip_memory_name(0x40000010)
    assert "router" in chip_memory_name(0xE1000000)


@pytest.fixture(scope="module")
def pre_machine():
    """The pre cells' binary loaded in a machine with the chip devices, and two free ITCM words
    per snippet: hand-encoded ARM instructions run there (ARM ARM encodings, checked below)."""
    path = model_binary("IF_cond_exp.aplx")
    located = locate_neuron(path)
    machine = Machine(parse_aplx(path), sark_alloc=located.sark_alloc, io_printf=located.io_printf,
                      rt_error=located.rt_error, log_db=LogDatabase())
    return machine, ChipDevices(machine)


def _snippet(machine, *words):
    address = machine.free_itcm(4 * len(words))
    machine.write(address, b"".join(w.to_bytes(4, "little") for w in words))
    return address


LDR_R0_R1 = 0xE5910000  # ldr r0, [r1]
STR_R0_R1_8 = 0xE5810008  # str r0, [r1, #8]
STR_R2_R1 = 0xE5812000  # str r2, [r1]
BX_LR = 0xE12FFF1E


def test_hand_encoded_snippets_read_back():
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_ARM)
    code = b"".join(w.to_bytes(4, "little") for w in (LDR_R0_R1, STR_R0_R1_8, STR_R2_R1, BX_LR))
    assert [f"{i.mnemonic} {i.op_str}" for i in md.disasm(code, 0)] == [
        "ldr r0, [r1]", "str r0, [r1, #8]", "str r2, [r1]", "bx lr"]


def test_a_write_of_the_transmit_key_register_sends_a_packet(pre_machine):
    machine, devices = pre_machine
    send = _snippet(machine, STR_R2_R1, STR_R0_R1_8, BX_LR)  # CC_TCR = r2, then CC_TXKEY = r0
    devices.tick = 7
    machine.call(send, 0x1234, 0x10000000, 0)  # PKT_MC, no payload
    assert (devices.packets[-1].key, devices.packets[-1].payload, devices.packets[-1].tick) == (0x1234, None, 7)
    read = _snippet(machine, LDR_R0_R1, BX_LR)
    assert machine.call(read, 0, 0x20000000) == 0x10000000  # CC_TCR: transmit not full


def test_an_unmodelled_register_or_system_memory_fails_loudly_and_names_it(pre_machine):
    machine, _ = pre_machine
    read = _snippet(machine, LDR_R0_R1, BX_LR)
    with pytest.raises(EmulationFault, match="communications-controller register 0x1000000c"):
        machine.call(read, 0, 0x1000000C, name="probe")  # CC_RSR: not modelled
    with pytest.raises(EmulationFault, match="System RAM"):
        machine.call(read, 0, 0xE5007F00, name="probe")  # SARK's system variables


# -- the seed network, end to end -------------------------------------------------------------

def test_the_seed_network_runs_emulated_with_spikes_from_emulated_neurons(seed_observation):
    observation = seed_observation
    assert observation.execution is Execution.EMULATED
    network = observation.provenance["network"]
    assert {core["binary"] for core in network["cores"]} == {"IF_cond_exp.aplx", POST_BINARY}
    assert "neurons included" in network["execution"] and "not a board" in network["execution"]
    # By hand: a thalamic spike at 30 ms is sent at tick 30, its row adds 5 µS to the ring-buffer
    # slot of tick 31 (delay 1 ms), the transfer of tick 31 hands it to the neuron, and 5 µS ×
    # (0 − (−65)) mV = 325 nA on 1 nF crosses threshold within that tick: the pre cell fires at
    # 31 ms. The refractory period (2 ms) then spaces its spikes 2 ticks apart while g stays high.
    first = [train[0] for train in observation.pre_spike_times]
    assert first == [31.0, 1.0, 31.0]
    assert observation.pre_spike_times[0][:3] == [31.0, 33.0, 35.0]
    # "pre cell only": its post cell has no drive and the plastic weight starts at 0: no spike.
    assert observation.post_spike_times[2] == []
    assert observation.post_spike_times[0][0] == 33.0


def test_the_seed_weights_equal_the_fixed_point_model_on_the_emulated_spike_ticks(seed_observation):
    observation = seed_observation
    pre, post = observation.synapse_trains()[:2]
    stored = predict_stored_weights(pre, post, observation.rule, initial_weight=observation.initial_weights,
                                    delay=observation.delay, timestep=observation.protocol.timestep,
                                    ring_buffer_shift=observation.encoding["ring_buffer_shifts"][
                                        observation.encoding["synapse_type"]],
                                    conductance_based=True, backprop_delay=True)
    assert observation.stored_weights == [int(s) for s in stored]
    assert observation.stored_weights[0] > 0 and observation.stored_weights[2] == 0
    result = evaluate(observation)
    assert result.status is Status.PASS
    assert all(v.tolerance == 0 for v in result.verdicts)


def test_the_recorded_conductance_follows_spynnakers_exponential_synapse(seed_observation):
    # sPyNNaker's exponential synapse adds w·τ/dt·(1 − e^(−dt/τ)) on arrival and decays by
    # e^(−dt/τ) per tick (synapse_types_exponential_impl.h); τ = 5 ms, dt = 1 ms, w = 5 µS.
    traces = seed_observation.traces["gsyn_exc"]
    assert traces["units"] == "uS"
    g = np.asarray(traces["pre"][0])
    times = traces["times"]
    at = times.index(31.0)
    assert g[at - 1] == 0.0
    expected = 5.0 * 5.0 * (1.0 - math.exp(-0.2))
    # Tolerance: the weight is stored in ring-buffer units (LSB 2^-10 µS here) and the decay
    # and input factors are S16.15 / U0.32 constants; 2^-9 µS covers their rounding.
    assert abs(g[at] - expected) <= 2.0 ** -9
    assert abs(g[at + 1] / g[at] - math.exp(-0.2)) <= 2.0 ** -12
    v = np.asarray(seed_observation.traces["v"]["pre"][0])
    assert v[0] == pytest.approx(-65.0, abs=2.0 ** -15)


def test_a_patched_post_binary_changes_the_emulated_seed_weights(tmp_path):
    # Negative control: one shift of the depression/potentiation product changed in the post
    # cores' binary; the comparison with tolerance 0 must fail.
    original = model_binary(POST_BINARY)
    (observation,) = SpinnakerBackend(binary_overrides={POST_BINARY: patched_copy(original, tmp_path)}).run(
        [seed_protocol()])
    assert observation.execution is Execution.EMULATED
    result = evaluate(observation)
    assert any(v.status is Status.FAIL for v in result.verdicts)
