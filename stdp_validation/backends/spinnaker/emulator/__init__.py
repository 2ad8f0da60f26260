"""sPyNNaker's shipped ARM STDP code, run in an ARM emulator (unicorn) on the toolchain's bytes.

``aplx``          the APLX image format (spinnaker_tools ``sark/sark_alib.s`` loader)
``disasm``        static views of a binary (capstone)
``logdb``         sPyNNaker's log-id database, to decode and find log calls
``locate``        the functions and globals of a stripped binary, found from the binary itself
``core``          the emulated ARM968 core (unicorn): memory map, calls, library hooks, faults
``driver``        a hand-encoded ARM loop that processes many events per emulator start
``images``        stage one: the region bytes the toolchain wrote, read from a mapped network
``synapse_core``  stage two: one post core initialised by its own code, driven by events
``emulate``       a whole post population, with the committed table of located addresses
``api``           :func:`emulate_stored_weights` for scripts

Not exercised: neuron dynamics (post spikes are supplied), packet timing and the order of
events within a tick on the real machine, DMA, the synapse expander, delay-extension
cores, and the chip itself (QEMU's ARM946 model stands in for the ARM968E-S).
"""


def unavailable_reason():
    """``None`` when the emulator can run here, else why not (its packages are missing)."""
    import importlib.util

    missing = [name for name in ("unicorn", "capstone") if importlib.util.find_spec(name) is None]
    if missing:
        return (f"{' and '.join(missing)} not installed: the ARM emulator needs them "
                "(pip install 'stdp-validation[spinnaker]')")
    return None
