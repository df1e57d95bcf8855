"""The bench's own logic, without running wrk or gunicorn: wrk's report, page assets, cookies, targets."""
from __future__ import annotations

import pytest

from bench import pages, report, run, wrk  # noqa: F401  (run: every bench module imports)
from bench.client import BenchError, HttpSession, csrf_token_from
from bench.measure import asset_links

# Captured from wrk 4.1.0 (Debian) against local servers of different speeds.
MS_WITH_LATENCY = """\
Running 2s test @ http://127.0.0.1:18082/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    61.56ms    9.72ms  75.90ms   83.48%
    Req/Sec    56.10     17.01    80.00     75.61%
  Latency Distribution
     50%   63.93ms
     75%   67.99ms
     90%   71.97ms
     99%   72.10ms
  230 requests in 2.10s, 25.81KB read
Requests/sec:    109.51
Transfer/sec:     12.29KB
"""

US_WITH_LATENCY = """\
Running 2s test @ http://127.0.0.1:18084/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   153.90us  218.32us   3.75ms   97.20%
    Req/Sec    30.49k     2.94k   36.02k    83.33%
  Latency Distribution
     50%  124.00us
     75%  142.00us
     90%  172.00us
     99%    1.33ms
  127244 requests in 2.10s, 4.85MB read
Requests/sec:  60589.87
Transfer/sec:      2.31MB
"""

US_WITHOUT_LATENCY = """\
Running 2s test @ http://127.0.0.1:18084/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   182.39us  469.11us  12.02ms   96.79%
    Req/Sec    31.33k     6.33k   43.72k    60.00%
  124658 requests in 2.00s, 4.76MB read
Requests/sec:  62316.60
Transfer/sec:      2.38MB
"""

# wrk pads second-valued percentiles with a trailing space ("1.42s ").
S_WITH_LATENCY = """\
Running 4s test @ http://127.0.0.1:18083/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.06s   312.19ms   1.63s    66.67%
    Req/Sec     5.05      4.80    20.00     72.73%
  Latency Distribution
     50%  927.94ms
     75%    1.42s \n     90%    1.58s \n     99%    1.63s \n  24 requests in 4.01s, 2.65KB read
Requests/sec:      5.99
Transfer/sec:     676.52B
"""

S_WITHOUT_LATENCY = """\
Running 4s test @ http://127.0.0.1:18083/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.01s   294.20ms   1.60s    65.38%
    Req/Sec     4.48      3.09    10.00     69.57%
  26 requests in 4.01s, 2.87KB read
Requests/sec:      6.49
Transfer/sec:     733.02B
"""

# Both error lines, in wrk's order (from a run with --timeout 1s and a run on a 404 page).
ERRORS = """\
Running 3s test @ http://127.0.0.1:18083/missing
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   718.47ms  148.46ms 885.33ms   66.67%
    Req/Sec     4.43      3.94    10.00     57.14%
  Latency Distribution
     50%  669.10ms
     75%  885.33ms
     90%  885.33ms
     99%  885.33ms
  15 requests in 3.01s, 1.66KB read
  Socket errors: connect 0, read 0, write 0, timeout 12
  Non-2xx or 3xx responses: 15
Requests/sec:      4.99
Transfer/sec:     563.91B
"""


def test_milliseconds_with_latency_distribution():
    result = wrk.parse(MS_WITH_LATENCY)
    assert result.requests_per_sec == 109.51
    assert result.requests == 230
    assert result.duration_ms == pytest.approx(2100)
    assert result.latency_avg_ms == pytest.approx(61.56)
    assert result.latency_max_ms == pytest.approx(75.90)
    assert result.percentiles_ms == pytest.approx({50.0: 63.93, 75.0: 67.99, 90.0: 71.97, 99.0: 72.10})
    assert (result.p50_ms, result.p99_ms) == (pytest.approx(63.93), pytest.approx(72.10))
    assert result.non_2xx_3xx == 0 and result.socket_errors == {}


def test_microseconds_are_converted_to_milliseconds():
    result = wrk.parse(US_WITH_LATENCY)
    assert result.requests_per_sec == 60589.87  # Req/Sec's "30.49k" is per thread, not what we read
    assert result.latency_avg_ms == pytest.approx(0.1539)
    assert result.p50_ms == pytest.approx(0.124)
    assert result.p99_ms == pytest.approx(1.33)
    assert result.latency_max_ms == pytest.approx(3.75)


def test_seconds_are_converted_to_milliseconds():
    result = wrk.parse(S_WITH_LATENCY)
    assert result.latency_avg_ms == pytest.approx(1060)
    assert result.p50_ms == pytest.approx(927.94)
    assert result.percentiles_ms[75.0] == pytest.approx(1420)
    assert result.p99_ms == pytest.approx(1630)
    assert result.requests == 24 and result.requests_per_sec == 5.99


@pytest.mark.parametrize("output, rps, avg_ms", [(US_WITHOUT_LATENCY, 62316.60, 0.18239),
                                                  (S_WITHOUT_LATENCY, 6.49, 1010.0)])
def test_without_latency_flag_there_are_no_percentiles(output, rps, avg_ms):
    result = wrk.parse(output)
    assert result.requests_per_sec == rps
    assert result.latency_avg_ms == pytest.approx(avg_ms)
    assert result.percentiles_ms == {}
    assert result.p50_ms is None and result.p99_ms is None


def test_error_responses_and_socket_errors_are_read():
    result = wrk.parse(ERRORS)
    assert result.non_2xx_3xx == 15
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 12}


def test_unreadable_output_is_an_error():
    with pytest.raises(wrk.WrkError):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")
    with pytest.raises(wrk.WrkError):
        wrk.duration_ms("12.0xs")


def test_only_same_origin_stylesheets_and_scripts_count():
    html = """<link rel="stylesheet" href="/static/css/site.abc.css">
    <link rel="icon" href="/static/img/favicon.svg"><link rel="preload" as="style" href="/static/css/site.abc.css">
    <script src="js/app.js"></script><script>inline()</script>
    <script src="https://js.stripe.com/v3/"></script><img src="/media/ab/photo.webp">"""
    own, foreign = asset_links(html, "http://127.0.0.1:8000/products/dua")
    assert own == [("css", "http://127.0.0.1:8000/static/css/site.abc.css"),
                   ("js", "http://127.0.0.1:8000/products/js/app.js")]
    assert foreign == ["https://js.stripe.com/v3/"]


def test_csrf_token_is_taken_from_the_login_form():
    html = """<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="other"></form>
    <form method="post" action="/login?next=%2Ffarmer%2Fdashboard">
      <input value="wanted" type="hidden" name="csrf_token"><input name="email"></form>"""
    assert csrf_token_from(html) == "wanted"
    with pytest.raises(BenchError):
        csrf_token_from("<form><input name='email'></form>")


def test_cookie_jar_keeps_secure_cookies_and_forgets_deleted_ones():
    session = HttpSession("127.0.0.1", 8000)
    session._store_cookies(["session=abc.def; Secure; HttpOnly; Path=/; SameSite=Lax", "lang=vi; Path=/"])
    assert session.headers()["Cookie"] == "session=abc.def; lang=vi"
    session._store_cookies(["lang=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"])
    assert session.headers() == {"User-Agent": "kep-bench/1.0", "Cookie": "session=abc.def"}


def test_targets_decide_pass_and_fail():
    def page(rps, p99, queries, total):
        result = report.PageResult("p", "/", load=report.Load(rps, 5.0, p99, 5.0, 9.0, 100, {}), queries=queries,
                                   weight={"total": total})
        result.evaluate(ceiling_rps=1000.0)
        return result

    assert page(500, 99.9, pages.MAX_QUERIES, pages.MAX_WEIGHT_BYTES - 1).verdict == "PASS"
    failing = page(499, 100.0, pages.MAX_QUERIES + 1, pages.MAX_WEIGHT_BYTES)
    assert failing.ratio == pytest.approx(0.499)
    assert failing.verdict == "FAIL (req/s, p99, queries, weight)"
    broken = report.PageResult("p", "/missing", error="/missing answered HTTP 404, not 200")
    broken.evaluate(ceiling_rps=1000.0)
    assert broken.verdict == "ERROR" and not broken.passed
