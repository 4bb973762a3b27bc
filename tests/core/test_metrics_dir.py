"""PROMETHEUS_MULTIPROC_DIR naming a folder that does not exist: prometheus-client reads it at import, so the app
makes it (0700) before any of its modules imports prometheus-client."""

import os
import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT


def test_a_missing_metrics_folder_is_made_before_prometheus_client_is_imported(tmp_path: Path):
    folder = tmp_path / "gone" / "metrics"
    result = subprocess.run(
        [sys.executable, "-c", "import server.telemetry, server.health.metrics; print('imported')"],
        cwd=ROOT, env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"
    assert folder.is_dir()
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_metrics_folder_that_cannot_be_made_is_refused_in_plain_words(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = subprocess.run([sys.executable, "-c", "import server.telemetry"], cwd=ROOT,
                            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(blocker / "metrics")},
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert f"bintang: PROMETHEUS_MULTIPROC_DIR={blocker / 'metrics'} cannot be made: Not a directory" in result.stderr
