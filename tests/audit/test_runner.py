"""The Lighthouse runner of ``make audit`` reads reports right (a report of the tour page, cut down to a few
audits; Lighthouse itself does not run here)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Path(__file__).with_name("lighthouse_sample.json")


@pytest.fixture(scope="module")
def runner():
    spec = importlib.util.spec_from_file_location("audit_run", ROOT / "audit" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def report() -> dict:
    return json.loads(SAMPLE.read_text())


def test_scores_bytes_and_what_fell_short(runner, report):
    summary = runner.summarize(report)
    assert summary["scores"] == {"performance": 0.94, "accessibility": 0.96, "best-practices": 1}
    assert summary["total_bytes"] == 22402
    assert summary["url"] == summary["requested_url"] == "http://127.0.0.1:40000/tours/tham-quan-doi-dua"
    # Worst first; passing audits and those without weight (total-byte-weight) are left out.
    assert [(item["category"], item["id"], item["score"]) for item in summary["failing"]] == [
        ("accessibility", "color-contrast", 0), ("performance", "total-blocking-time", 0.79)]
    assert summary["runtime_error"] is None


def test_targets_and_redirects_are_misses(runner, report):
    tour = runner.summarize(report)
    assert runner.below_targets({"tour": tour}) == ["tour: performance 0.94 < 0.95"]
    report["finalDisplayedUrl"] = "http://127.0.0.1:40000/login?next=%2Ftours%2Ftham-quan-doi-dua"
    report["categories"]["performance"]["score"] = 1
    assert runner.below_targets({"tour": runner.summarize(report)}) == [
        "tour: http://127.0.0.1:40000/tours/tham-quan-doi-dua ended on "
        "http://127.0.0.1:40000/login?next=%2Ftours%2Ftham-quan-doi-dua"]
    del report["categories"]["accessibility"]
    assert "tour: accessibility None < 0.95" in runner.below_targets({"tour": runner.summarize(report)})


def test_the_median_of_several_runs(runner, report):
    runs = []
    for performance, total in ((0.91, 30000), (0.99, 20000), (0.97, 21000)):
        report["categories"]["performance"]["score"] = performance
        report["audits"]["total-byte-weight"]["numericValue"] = total
        runs.append(runner.summarize(report))
    combined = runner.combine(runs)
    assert combined["scores"]["performance"] == 0.97 and combined["total_bytes"] == 21000 and combined["runs"] == 3
    lines = runner.table({"tour": combined}).splitlines()
    assert lines[0].split()[:5] == ["page", "perf", "a11y", "best", "KB"]
    assert lines[1].split()[:5] == ["tour", "0.97", "0.96", "1.00", "20.5"]
