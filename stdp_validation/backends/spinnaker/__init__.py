"""sPyNNaker (SpiNNaker) backend, one job per module.

``config``     finding and validating a board cfg, writing a run's cfg
``workspace``  the isolated temporary folder every sPyNNaker run happens in
``backend``    :class:`SpinnakerBackend` (the backend contract on the shared PyNN network)
``readout``    what the toolchain generated, read from the mapped network
``checks``     the toolchain checks, pure functions of (protocol, encoding)
"""

from .backend import BOARD_REASON, TOOLCHAIN_ONLY_REASON, SpinnakerBackend, network_scale
from .checks import decode_synapse_dynamics_region, toolchain_checks
from .config import NO_BOARD_REASON, BoardConfig, board_cfg_path, user_cfg_files, validate_board_cfg
from .workspace import KEEP_ENV, isolated_workspace

__all__ = [
    "BOARD_REASON",
    "KEEP_ENV",
    "NO_BOARD_REASON",
    "TOOLCHAIN_ONLY_REASON",
    "BoardConfig",
    "SpinnakerBackend",
    "board_cfg_path",
    "decode_synapse_dynamics_region",
    "isolated_workspace",
    "network_scale",
    "toolchain_checks",
    "user_cfg_files",
    "validate_board_cfg",
]
