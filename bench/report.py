"""Per-page results, the targets' verdicts, the printed table and ``bench/results.json``."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import pages as targets
from bench.wrk import WrkResult


@dataclass
class Load:
    """What wrk measured on one URL."""
    requests_per_sec: float
    p50_ms: float | None
    p99_ms: float | None
    latency_avg_ms: float
    latency_max_ms: float
    requests: int
    socket_errors: dict[str, int]

    @classmethod
    def from_wrk(cls, result: WrkResult) -> Load:
        return cls(result.requests_per_sec, result.p50_ms, result.p99_ms, result.latency_avg_ms,
                   result.latency_max_ms, result.requests, result.socket_errors)


@dataclass
class PageResult:
    name: str
    path: str
    login: str | None = None
    check_weight: bool = True
    status: int | None = None
    error: str | None = None  # the bench could not measure this page (not 200, errors under load...)
    load: Load | None = None
    ratio: float | None = None
    queries: int | None = None
    query_statements: list[str] = field(default_factory=list)
    public: bool = True
    server_ms: float | None = None
    weight: dict | None = None  # html, css, js, total (bytes), assets, other_origin
    checks: dict[str, bool] = field(default_factory=dict)
    passed: bool = False

    def evaluate(self, ceiling_rps: float) -> None:
        """Fill ``ratio``, ``checks`` and ``passed`` against the targets of ``bench.pages``."""
        if self.error or self.load is None:
            self.checks, self.passed = {}, False
            return
        self.ratio = self.load.requests_per_sec / ceiling_rps if ceiling_rps else 0.0
        if self.public:
            self.checks = {
                "req/s": self.ratio >= targets.MIN_CEILING_RATIO,
                "p99": self.load.p99_ms is not None and self.load.p99_ms < targets.MAX_P99_MS,
            }
        else:
            self.checks = {"server ms": self.server_ms is not None and self.server_ms < targets.MAX_SERVER_MS}
        self.checks["queries"] = self.queries is not None and self.queries <= targets.MAX_QUERIES
        if self.check_weight:
            self.checks["weight"] = self.weight is not None and self.weight["total"] < targets.MAX_WEIGHT_BYTES
        self.passed = all(self.checks.values())

    @property
    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        if self.passed:
            return "PASS"
        return "FAIL (" + ", ".join(name for name, ok in self.checks.items() if not ok) + ")"


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(ceilings: dict[str, Load], ceiling_rps: float, results: list[PageResult]) -> str:
    header = ("page", "req/s", "p50 ms", "p99 ms", "x ceiling", "server ms", "queries", "KB html+css+js", "result")
    rows = [(f"ceiling, {when} (bare Flask)", _number(load.requests_per_sec), _number(load.p50_ms, 2),
             _number(load.p99_ms, 2), _number(load.requests_per_sec / ceiling_rps, 2), "-", "-", "-", "")
            for when, load in ceilings.items()]
    for r in results:
        load = r.load
        rows.append((
            r.name, _number(load and load.requests_per_sec), _number(load and load.p50_ms, 2),
            _number(load and load.p99_ms, 2), _number(r.ratio, 2), _number(r.server_ms, 1),
            "-" if r.queries is None else str(r.queries),
            "-" if r.weight is None else f"{r.weight['total'] / 1024:.1f}", r.verdict))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i in (0, 8) else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    notes = [f"  {r.name}: {r.error}" for r in results if r.error]
    spread = [load.requests_per_sec for load in ceilings.values()]
    if min(spread) < 0.8 * max(spread):
        notes.append(f"  the ceiling moved from {spread[0]:,.0f} to {spread[-1]:,.0f} req/s: the machine was "
                     "busy with something else, ratios are approximate")
    notes += [f"  {r.name}: socket errors under load {r.load.socket_errors}" for r in results
              if r.load and any(r.load.socket_errors.values())]
    if notes:
        lines += ["", "Notes:", *notes]
    lines += ["", f"x ceiling: req/s over the mean of the ceiling runs ({ceiling_rps:,.0f} req/s).",
              f"Targets, public pages: req/s >= {targets.MIN_CEILING_RATIO} x ceiling, p99 < {targets.MAX_P99_MS:.0f} ms; "
              f"logged-in pages: server time < {targets.MAX_SERVER_MS:.0f} ms (median of {targets.SERVER_TIME_RUNS} "
              "single requests, in-process); all: "
              f"queries <= {targets.MAX_QUERIES}, HTML+CSS+JS < {targets.MAX_WEIGHT_BYTES // 1024} KB "
              "(1 KB = 1024 bytes, uncompressed, photos excluded)."]
    return "\n".join(lines)


def write_json(path: Path, summary: dict, ceilings: dict[str, Load], results: list[PageResult]) -> None:
    data = {
        **summary,
        "targets": {"min_ceiling_ratio": targets.MIN_CEILING_RATIO, "max_p99_ms": targets.MAX_P99_MS,
                    "max_queries": targets.MAX_QUERIES, "max_weight_bytes": targets.MAX_WEIGHT_BYTES,
                    "max_server_ms": targets.MAX_SERVER_MS},
        "ceiling": {when: asdict(load) for when, load in ceilings.items()},
        "pages": [{**asdict(r), "verdict": r.verdict} for r in results],
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
