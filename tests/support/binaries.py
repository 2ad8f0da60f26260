"""sPyNNaker binaries for negative controls: the shipped files, and copies with one instruction patched."""

from pathlib import Path


def patched_copy(binary_path, folder):
    """A copy of the pair-rule binary with the last ``asr #11`` of its plastic row update (the
    4.11 product trace × LUT >> 11, timing_pair_impl.h) turned into ``asr #10``."""
    from stdp_validation.backends.spinnaker.emulator.aplx import parse_aplx
    from stdp_validation.backends.spinnaker.emulator.disasm import Code
    from stdp_validation.backends.spinnaker.emulator.emulate import located_for

    image = parse_aplx(binary_path)
    located, _ = located_for(binary_path)
    code = Code(image.code())
    shifts = [i for i in code.instructions(located.synapse_dynamics_process_plastic_synapses)
              if i.mnemonic == "asr" and i.op_str.endswith("#0xb")]
    word = code.word(shifts[-1].address)
    data = bytearray(Path(binary_path).read_bytes())
    offset = image.file_offset(shifts[-1].address)
    data[offset:offset + 4] = ((word & ~(0x1F << 7)) | (10 << 7)).to_bytes(4, "little")
    out = Path(folder) / Path(binary_path).name
    out.write_bytes(bytes(data))
    return out


def model_binary(name):
    import spynnaker

    return Path(spynnaker.__file__).parent / "pyNN" / "model_binaries" / name
