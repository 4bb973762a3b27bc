"""Lighthouse performance scores of the pages a phone user meets first (home, the report form, the follow-up form),
on the real app served by uvicorn on a fresh demo database, with Lighthouse's mobile emulation and simulated
throttling. A score is a timing and moves with whatever else the machine is doing, so it is measured here, not
held in a test (tests/browser/test_budgets.py keeps accessibility, best practices and the byte budgets).

    .venv/bin/python -m bench.lighthouse [--runs 3]

prints, for each page, the median performance score of the runs and its first contentful paint and total
blocking time."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from tests.servers import ROOT, app_process
from tests.support.browser import demo_database

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
PAGES = {"home": "/", "report form": "/lapor", "follow-up form": "/cek"}
AIM = 0.95


def run_lighthouse(url: str, output: Path) -> dict:
    command = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={output}",
               "--only-categories=performance",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run"]
    subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROMIUM}, check=True, timeout=240,
                   capture_output=True)
    return json.loads(output.read_text())


def main(runs: int = 3) -> int:
    if not LIGHTHOUSE.exists():
        print(f"Lighthouse is missing ({LIGHTHOUSE}): run `npm ci` (make bench does)")
        return 1
    status = 0
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        with app_process(demo_database(folder), folder / "var") as base_url:
            print(f"Lighthouse performance, mobile, median of {runs} run(s) (aim ≥ {AIM})")
            print(f"{'page':<16} {'score':>6} {'FCP ms':>8} {'TBT ms':>8}   runs")
            for name, path in PAGES.items():
                results = [run_lighthouse(base_url + path, folder / f"lh-{n}.json") for n in range(runs)]
                scores = [result["categories"]["performance"]["score"] for result in results]
                median = sorted(results, key=lambda r: r["categories"]["performance"]["score"])[len(results) // 2]
                fcp = median["audits"]["first-contentful-paint"]["numericValue"]
                tbt = median["audits"]["total-blocking-time"]["numericValue"]
                score = statistics.median(scores)
                status = status or int(score < AIM)
                print(f"{name:<16} {score:>6.2f} {fcp:>8.0f} {tbt:>8.0f}   {scores}")
    return status


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    raise SystemExit(main(parser.parse_args().runs))
