"""Running wrk (the Debian package) and reading its report."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed something we cannot read."""


# wrk prints durations as e.g. "153.90us", "5.32ms", "1.42s", "2.00m"; we keep milliseconds.
_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(us|ms|s|m|h)$")
_RPS = re.compile(r"^Requests/sec:\s+([0-9.]+)\s*$", re.M)
_TOTAL = re.compile(r"^\s*([0-9]+) requests in ([0-9.]+(?:us|ms|s|m|h)),", re.M)
_LATENCY = re.compile(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+%\s*$", re.M)
_PERCENTILE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)%\s+(\S+)\s*$")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+([0-9]+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)")


def duration_ms(text: str) -> float:
    """``"153.90us"`` -> 0.1539, ``"5.32ms"`` -> 5.32, ``"1.42s"`` -> 1420.0."""
    match = _DURATION.match(text.strip())
    if not match:
        raise WrkError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _TIME_UNITS_MS[match.group(2)]


@dataclass
class WrkResult:
    requests_per_sec: float
    requests: int
    duration_ms: float
    latency_avg_ms: float
    latency_max_ms: float
    # Only with --latency: {50.0: ms, 75.0: ms, 90.0: ms, 99.0: ms}
    percentiles_ms: dict[float, float] = field(default_factory=dict)
    non_2xx_3xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def p50_ms(self) -> float | None:
        return self.percentiles_ms.get(50.0)

    @property
    def p99_ms(self) -> float | None:
        return self.percentiles_ms.get(99.0)


def parse(output: str) -> WrkResult:
    """Read wrk's report (with or without ``--latency``)."""
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    latency = _LATENCY.search(output)
    if not (rps and total and latency):
        raise WrkError("cannot read wrk's report:\n" + output)
    percentiles: dict[float, float] = {}
    if "Latency Distribution" in output:
        section = output.split("Latency Distribution", 1)[1]
        for line in section.splitlines()[1:]:
            match = _PERCENTILE.match(line)
            if not match:
                break
            percentiles[float(match.group(1))] = duration_ms(match.group(2))
    non_2xx = _NON_2XX.search(output)
    errors = _SOCKET_ERRORS.search(output)
    return WrkResult(
        requests_per_sec=float(rps.group(1)),
        requests=int(total.group(1)),
        duration_ms=duration_ms(total.group(2)),
        latency_avg_ms=duration_ms(latency.group(1)),
        latency_max_ms=duration_ms(latency.group(3)),
        percentiles_ms=percentiles,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups())))
        if errors else {},
    )


def ensure_installed() -> str:
    """The path of wrk; installs the Debian package when it is missing (needs root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise WrkError("wrk is not installed and we are not root: run `sudo apt-get install -y wrk`.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("wrk is missing: apt-get install -y wrk", flush=True)
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=False)
    found = shutil.which("wrk")
    if not found:
        raise WrkError("could not install wrk with apt-get; install it by hand (`apt-get install -y wrk`).")
    return found


def run(url: str, *, threads: int, connections: int, seconds: int, headers: dict[str, str] | None = None,
        latency: bool = True, timeout_s: int = 5) -> tuple[WrkResult, str]:
    """Load ``url`` for ``seconds``; returns the parsed result and wrk's own report."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s"]
    if latency:
        command.append("--latency")
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise WrkError(f"wrk failed ({done.returncode}) on {url}: {done.stderr.strip() or done.stdout.strip()}")
    return parse(done.stdout), done.stdout
