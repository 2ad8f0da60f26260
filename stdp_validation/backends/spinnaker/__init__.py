"""sPyNNaker (SpiNNaker) backend, one job per module.

``config``     finding and validating a board cfg, writing a run's cfg
``workspace``  the isolated temporary folder every sPyNNaker run happens in
``backend``    :class:`SpinnakerBackend` (the backend contract on the shared PyNN network)
``readout``    what the toolchain generated, read from the mapped network
``checks``     the toolchain checks, pure functions of (protocol, encoding)
``emulation``  the emulated execution: stage two for the protocols of a run
``emulator``   sPyNNaker's ARM code in an ARM emulator (its own sub-package)
"""

from .backend import BOARD_REASON, TOOLCHAIN_ONLY_REASON, SpinnakerBackend, network_scale
from .checks import decode_synapse_dynamics_region, toolchain_checks
from .emulator.api import EmulatedWeights, emulate_stored_weights
from .config import NO_BOARD_REASON, BoardConfig, board_cfg_path, user_cfg_files, validate_board_cfg
from .workspace import KEEP_ENV, isolated_workspace

__all__ = [
    "BOARD_REASON",
    "KEEP_ENV",
    "NO_BOARD_REASON",
    "TOOLCHAIN_ONLY_REASON",
    "BoardConfig",
    "EmulatedWeights",
    "SpinnakerBackend",
    "board_cfg_path",
    "decode_synapse_dynamics_region",
    "emulate_stored_weights",
    "isolated_workspace",
    "network_scale",
    "toolchain_checks",
    "user_cfg_files",
    "validate_board_cfg",
]
