"""The README's Python examples run, and print what the README says they print."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block(block):
    if "backends.spinnaker" in block:
        from stdp_validation.backends.spinnaker import SpinnakerBackend
        from stdp_validation.backends.spinnaker.emulator import unavailable_reason

        reason = SpinnakerBackend.unavailable_reason() or unavailable_reason()
        if reason:
            pytest.skip(f"the example runs emulated SpiNNaker: {reason}")
    namespace = {}
    exec(compile(block, str(README), "exec"), namespace)  # the example runs as written
    # Lines "expression\n# -> array([value])" or "expression  # → array([value])" state results.
    lines = block.splitlines()
    checked = 0
    for index, line in enumerate(lines):
        claim = re.search(r"#\s*(?:->|→)\s*array\(\[([-0-9.e, ]+)\]\)", line)
        if not claim:
            continue
        source = line[: line.index("#")].strip() or lines[index - 1].split("#")[0].strip()
        value = eval(source, namespace)  # noqa: S307 - the README's own example
        expected = [float(v) for v in claim.group(1).split(",")]
        np.testing.assert_allclose(np.atleast_1d(value), expected, rtol=0, atol=5e-9)
        checked += 1
    assert checked or "# ->" not in block and "# →" not in block


@pytest.mark.nest
def test_the_readme_example_test_file_for_your_own_rule_runs(tmp_path):
    import subprocess
    import sys

    text = README.read_text()
    start = text.index("# test_my_rule.py")
    example = text[start:text.index("```", start)]
    (tmp_path / "test_my_rule.py").write_text(example)
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "nest", "test_my_rule.py",
         "--stdp-report", str(tmp_path / "report")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert "2 passed" in process.stdout
    (run,) = (tmp_path / "report").iterdir()
    assert len(json.loads((run / "results.json").read_text())["results"]) == 2
