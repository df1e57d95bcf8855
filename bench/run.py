"""``make bench``: seed a large catalogue, serve it with gunicorn, measure it with wrk.

SQLite in a temporary folder by default; PostgreSQL when BENCH_DATABASE_URL is set (its public
schema is DROPPED and rebuilt by the migrations). Exit code 0 when every page was measured, even
if a target fails; 1 when the bench itself broke (server did not start, a page was not 200...).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] == str(Path(__file__).resolve().parent):
    sys.path[0] = str(ROOT)  # run as a script: import the project, not bench/'s files by bare name

import config as settings  # noqa: E402
from bench import measure, report, seed, wrk  # noqa: E402
from bench.client import USER_AGENT, BenchError, HttpSession  # noqa: E402
from bench.pages import Page, pages  # noqa: E402
from bench.server import HOST, WORKERS, Gunicorn  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="wrk run per page (8)")
    parser.add_argument("--warmup", type=int, default=2, help="wrk warm-up per page, not measured (2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs)")
    return parser.parse_args()


def _environment(workdir: Path, database_url: str) -> dict[str, str]:
    """Production settings, for gunicorn and for the in-process app alike."""
    env = {key: value for key, value in os.environ.items() if key != "FLASK_DEBUG"}
    env.update(settings.local_production_settings(), DATABASE_URL=database_url,
               INSTANCE_PATH=str(workdir / "instance"), RATELIMIT_ENABLED="0")
    return env


def _load(url: str, args: argparse.Namespace, headers: dict[str, str]) -> report.Load:
    wrk.run(url, threads=args.threads, connections=args.connections, seconds=args.warmup, headers=headers,
            latency=False)
    result, _ = wrk.run(url, threads=args.threads, connections=args.connections, seconds=args.seconds,
                        headers=headers)
    if result.requests == 0:
        raise BenchError(f"wrk completed no request on {url}")
    if result.non_2xx_3xx:
        raise BenchError(f"{result.non_2xx_3xx} of {result.requests} responses under load were errors")
    return report.Load.from_wrk(result)


def _measure(page: Page, server: Gunicorn, sessions: dict[str, HttpSession], counted: measure.QueryCount,
             password: str, args: argparse.Namespace) -> report.PageResult:
    result = report.PageResult(page.name, page.path, page.login, page.check_weight, queries=counted.queries,
                               query_statements=counted.statements, public=page.public,
                               server_ms=counted.server_ms)
    try:
        session = HttpSession(HOST, server.port)  # anonymous pages: a first visit, no cookies
        if page.login:
            if page.login not in sessions:
                sessions[page.login] = HttpSession(HOST, server.port)
                sessions[page.login].login(page.login, password)
            session = sessions[page.login]
        response = session.get(page.path)
        result.status = response.status
        if response.status != 200:
            raise BenchError(f"{page.path} answered {response.describe()}, not 200: not measured")
        if counted.status != 200:
            raise BenchError(f"{page.path} answered HTTP {counted.status} in-process (query count)")
        if page.check_weight:
            weight = measure.page_weight(session, response.body, page.path)
            result.weight = {"html": weight.html, "css": weight.css, "js": weight.js, "total": weight.total,
                             "assets": weight.assets, "other_origin": weight.other_origin}
        headers = session.headers() if page.login else {"User-Agent": USER_AGENT}  # anonymous: no cookie
        result.load = _load(session.base_url + page.path, args, headers)
        if page.login and (after := session.get(page.path)).status != 200:
            raise BenchError(f"the session was lost during the run: {page.path} now answers {after.describe()}")
    except (BenchError, wrk.WrkError) as error:
        result.error, result.load = str(error), None
    return result


def _prepare(raw_url: str):
    """Seed the catalogue with the in-process app, then count each page's queries there."""
    from app import create_app
    from core.extensions import db

    # Queries are counted on a full render: the public-page cache is off for this in-process app.
    app = create_app({"PAGE_CACHE_SECONDS": 0})
    with app.app_context():
        shown_url = db.engine.url.render_as_string(hide_password=True)
        print(f"Database: {shown_url}" + (" (public schema dropped and rebuilt)" if raw_url else ""), flush=True)
        seed.prepare_database()
        t = time.monotonic()
        catalogue = seed.seed()
        print(f"Seeded {catalogue.farms} farms and {catalogue.products} products in "
              f"{time.monotonic() - t:.1f} s", flush=True)
    page_list = pages(catalogue)
    counts = measure.count_queries(app, page_list, catalogue.password)
    with app.app_context():
        db.engine.dispose()
    return shown_url, catalogue, page_list, counts


def _bench(args: argparse.Namespace, workdir: Path, started: float) -> int:
    raw_url = os.environ.get("BENCH_DATABASE_URL", "")
    database_url = settings.database_url(raw_url) if raw_url else f"sqlite:///{workdir / 'bench.sqlite3'}"
    env = _environment(workdir, database_url)
    os.environ.pop("FLASK_DEBUG", None)
    os.environ.update(env)
    load_before = os.getloadavg()[0]
    shown_url, catalogue, page_list, counts = _prepare(raw_url)

    log = workdir / "gunicorn.log"
    print(f"Measuring with wrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency "
          f"(+{args.warmup}s warm-up), gunicorn {WORKERS} sync workers; load average {load_before:.1f}", flush=True)
    results: list[report.PageResult] = []
    # Both servers start now; an idle one costs nothing. The ceiling is measured before and after the pages.
    with Gunicorn("bench.ceiling:app", env, log) as ceiling_server, \
            Gunicorn("app:create_app()", env, log) as server:
        ceiling_url = f"http://{HOST}:{ceiling_server.port}/"
        ceilings = {"before": _load(ceiling_url, args, {"User-Agent": USER_AGENT})}
        print(f"  ceiling: {ceilings['before'].requests_per_sec:,.0f} req/s", flush=True)
        sessions: dict[str, HttpSession] = {}
        for page in page_list:
            result = _measure(page, server, sessions, counts[page.name], catalogue.password, args)
            results.append(result)
            print(f"  {page.name}: " + (result.error or f"{result.load.requests_per_sec:,.0f} req/s"), flush=True)
        ceilings["after"] = _load(ceiling_url, args, {"User-Agent": USER_AGENT})
        print(f"  ceiling again: {ceilings['after'].requests_per_sec:,.0f} req/s", flush=True)
    ceiling_rps = sum(load.requests_per_sec for load in ceilings.values()) / len(ceilings)
    for result in results:
        result.evaluate(ceiling_rps)

    runtime = time.monotonic() - started
    broken = [r for r in results if r.error]
    summary = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "runtime_s": round(runtime, 1),
        "database": shown_url, "catalogue": {"farms": catalogue.farms, "products": catalogue.products},
        "wrk": {"threads": args.threads, "connections": args.connections, "seconds": args.seconds,
                "warmup_seconds": args.warmup},
        "gunicorn": {"workers": WORKERS, "worker_class": "sync", "bind": HOST},
        "cpus": os.cpu_count(), "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "ceiling_requests_per_sec": ceiling_rps, "complete": not broken,
    }
    report.write_json(RESULTS, summary, ceilings, results)
    print("\n" + report.table(ceilings, ceiling_rps, results))
    print(f"\n{len(results)} pages, {sum(r.passed for r in results)} pass; results in "
          f"{RESULTS.relative_to(ROOT)}; {runtime:.0f} s")
    if broken:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""
        print(f"The bench could not measure {len(broken)} page(s): see the notes above."
              + (f"\nEnd of the gunicorn log:\n{tail}" if tail else ""), file=sys.stderr)
        return 1
    return 0


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop gunicorn


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _terminate)
    args = _arguments()
    workdir = Path(tempfile.mkdtemp(prefix="kep-bench-"))
    try:
        wrk.ensure_installed()
        return _bench(args, workdir, started)
    except (BenchError, wrk.WrkError) as error:
        print(f"\nThe bench broke: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; gunicorn stopped.", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
