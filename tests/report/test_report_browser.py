"""The report renders in a real browser: headless Chromium takes a screenshot of the page.

Skipped when no Chromium or Chrome binary is on PATH (install one with
``apt-get install -y chromium``, or run ``tox -e browser``, which does so).
"""

import shutil
import subprocess

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from report_runs import build_run  # noqa: E402  (same folder; pytest puts it on sys.path)

from stdp_validation.report import write_report  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((path for path in map(shutil.which, BROWSERS) if path), None)

pytestmark = pytest.mark.skipif(
    BROWSER is None,
    reason=f"no headless browser on PATH (looked for {', '.join(BROWSERS)}); "
    "install one with 'apt-get install -y chromium' or run 'tox -e browser'",
)


def screenshot(page, directory, size=(1280, 4000)):
    shot = directory / "shot.png"
    command = [
        BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
        "--disable-dev-shm-usage", f"--user-data-dir={directory / 'profile'}", f"--screenshot={shot}",
        f"--window-size={size[0]},{size[1]}", page.resolve().as_uri(),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert shot.exists(), f"{BROWSER} wrote no screenshot (exit {completed.returncode}):\n{completed.stderr[-2000:]}"
    return shot


def test_report_renders_in_headless_chromium(tmp_path):
    from matplotlib.image import imread

    page = write_report(build_run(tmp_path / "run"))
    shot = screenshot(page, tmp_path)
    assert shot.stat().st_size > 50_000, "screenshot is suspiciously small: blank page?"
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (4000, 1280)
    assert pixels.std() > 0.05, "screenshot has almost no contrast: blank page?"
    not_white = (pixels < 0.95).any(axis=2)
    assert not_white.mean() > 0.03, "screenshot is nearly all white"
    # Content spans the page, not just a header: every 1000-pixel band holds something.
    for band in range(4):
        assert not_white[band * 1000:(band + 1) * 1000].mean() > 0.005, f"band {band} is empty"
    # The run has a failing case: the red FAILED banner (#ffebe9 on #cf222e text) is drawn
    # near the top, and figures (green pass dots, #1a7f37) follow.
    top = pixels[:1200]
    fail_background = np.all(np.abs(top - np.array([0xFF, 0xEB, 0xE9]) / 255) < 0.02, axis=2)
    assert fail_background.sum() > 2000, "the FAILED banner is not visible"
    green = np.all(np.abs(pixels - np.array([0x1A, 0x7F, 0x37]) / 255) < 0.08, axis=2)
    assert green.sum() > 200, "no pass-coloured marks: figures or badges did not render"
