"""Requests per second of the signed-in patient home, staff Today and the worklist, next to
a bare Flask app.

Run by hand from the project root:

    .venv/bin/python bench/home_latency.py [--seconds 10] [--concurrency 8]
                                           [--warmup 2] [--database-url URL]
                                           [--memory] [--no-wrk]

It builds a fresh SQLite database in a temporary directory (or uses
``--database-url``, e.g. a throwaway PostgreSQL database), runs the
migrations, loads the demo data, signs in the demo patient Kari Nordmann and
the demo doctor without the UI, and serves ``wsgi:app`` with gunicorn (2 sync
workers) on 127.0.0.1. Each page is loaded from Python threads, one HTTP
connection each, which check every body, and then (if it is installed) with
``wrk``, which uses far less CPU on the shared cores. The same loads then go to
``bench/bare_app.py`` (one route that answers "ok") under the same gunicorn
settings, and the ratios are printed. ``--memory`` also reads each worker's
RSS after 1,000, 2,000, 5,000 and 10,000 home requests. It prints figures and
asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.common import load_average, shown_url, version  # noqa: E402  (after the path above)

HOST = "127.0.0.1"  # loopback only
WORKERS = 2
DEMO_PHONE = "+4791234567"
DEMO_NAME = "Kari Nordmann"
DEMO_DOCTOR = "lege@demo.folge.test"
HOME_PATH = "/me/"
#: The staff pages measured: (label, path, a marker only that page has).
STAFF_PAGES = (
    ("staff Today /staff/", "/staff/", b'role="search" class="search"'),
    ("staff worklist", "/staff/worklist", b'class="quick-filters"'),
)
#: Requests after which the memory of each worker is read (the first is the baseline).
MEMORY_CHECKPOINTS = (1_000, 2_000, 5_000, 10_000)
BARE_PATH = "/"
#: Upper bounds so that no loop can run away.
STARTUP_SECONDS = 30.0
REQUEST_TIMEOUT = 10.0
MAX_REQUESTS_PER_THREAD = 5_000_000
MAX_EXAMPLES = 5


# -- setup ---------------------------------------------------------------------


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def prepare_database(url: str, secret_key: str) -> tuple[str, str, str]:
    """Migrate and seed ``url``; sign in the demo patient and the demo doctor.

    Returns the session cookie's name and the patient's and the doctor's cookie values,
    signed with ``secret_key``.
    """
    from sqlalchemy import select

    from server import create_app, demo
    from server.cli import run_migrations
    from server.config import Config
    from server.extensions import db
    from server.models import User
    from server.services import sessions

    run_migrations(url)
    app = create_app(Config(env="development", secret_key=secret_key, database_url=url,
                            data_keys=(data_key_for(secret_key),)))
    with app.app_context():
        demo.seed()
        user = db.session.scalar(select(User).where(User.phone == DEMO_PHONE))
        if user is None:
            raise SystemExit(f"The demo patient {DEMO_PHONE} is missing after seeding.")
        token = sessions.start(user)
        doctor = db.session.scalar(select(User).where(User.email == DEMO_DOCTOR))
        if doctor is None:
            raise SystemExit(f"The demo doctor {DEMO_DOCTOR} is missing after seeding.")
        staff_token = sessions.start(doctor)
        db.session.remove()
        db.engine.dispose()
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    if serializer is None:
        raise SystemExit("Flask could not sign a session cookie (no secret key?).")
    return (str(app.config["SESSION_COOKIE_NAME"]),
            serializer.dumps({"_user_id": token, "_fresh": True}),
            serializer.dumps({"_user_id": staff_token, "_fresh": True}))


def data_key_for(secret_key: str) -> str:
    """A Fernet key for this run, the same in the seeding process and in gunicorn."""
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()).decode()


def server_env(secret_key: str, database_url: str) -> dict[str, str]:
    """The environment for gunicorn: ours, minus other FOLGE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLGE_")}
    env.update(
        FOLGE_ENV="development",
        FOLGE_SECRET_KEY=secret_key,
        FOLGE_DATA_KEY=data_key_for(secret_key),
        FOLGE_DATABASE_URL=database_url,
        FOLGE_RATELIMIT_STORAGE_URI="memory://",
    )
    return env


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def start_gunicorn(app_spec: str, env: dict[str, str], log_path: Path,
                   extra: list[str] | None = None) -> Server:
    """Start gunicorn (2 sync workers) on a free loopback port; wait for /healthz."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(WORKERS),
        "--worker-class", "sync",
        "--bind", f"{HOST}:{port}",
        "--log-level", "warning",
        *(extra or []),
        app_spec,
    ]
    log = open(log_path, "wb")  # noqa: SIM115 (handed to the child)
    try:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()
    server = Server(proc, port, log_path)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stop_gunicorn(server)
            raise RuntimeError(f"gunicorn for {app_spec} exited at start-up:\n"
                               f"{server.log_tail()}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return server
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    stop_gunicorn(server)
    raise RuntimeError(f"gunicorn for {app_spec} did not answer /healthz within "
                       f"{STARTUP_SECONDS:.0f} s:\n{server.log_tail()}")


def stop_gunicorn(server: Server | None) -> None:
    """Stop the gunicorn master we started (it stops its own workers)."""
    if server is None or server.proc.poll() is not None:
        return
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=5)


# -- load ----------------------------------------------------------------------


@dataclass
class ThreadResult:
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    warmup_failures: int = 0
    cookie_updates: int = 0
    last_end: float = 0.0


@dataclass
class LoadResult:
    label: str
    seconds: float
    latencies: list[float]
    failures: Counter[str]
    warmup_failures: int
    cookie_updates: int
    client_cpu: float  # CPU seconds the load generator used while measuring

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile of the successful requests, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1] * 1000


def _updated_cookie(headers: list[str], name: str, current: str | None) -> str | None:
    """Keep the session cookie up to date, as a browser would."""
    for header in headers:
        try:
            jar = SimpleCookie()
            jar.load(header)
        except CookieError:
            continue
        morsel = jar.get(name)
        if morsel is not None:
            return morsel.value or None
    return current


def _load_thread(port: int, path: str, cookie_name: str | None, cookie: str | None,
                 expect: bytes, measure_from: float, deadline: float,
                 result: ThreadResult) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        for _ in range(MAX_REQUESTS_PER_THREAD):
            start = time.perf_counter()
            if start >= deadline:
                break
            measured = start >= measure_from
            headers = {"Accept": "text/html", "Accept-Language": "nb"}
            if cookie_name and cookie:
                headers["Cookie"] = f"{cookie_name}={cookie}"
            problem = None
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                set_cookies = response.msg.get_all("Set-Cookie") or []
                if response.status != 200:
                    problem = f"status {response.status}"
                    location = response.getheader("Location")
                    if location:
                        problem += f" -> {location}"
                elif expect not in body:
                    problem = f"200 without {expect.decode()!r} in the body"
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                set_cookies = []
                problem = f"{type(exc).__name__}: {exc}"
            end = time.perf_counter()
            if cookie_name and set_cookies:
                new = _updated_cookie(set_cookies, cookie_name, cookie)
                if new != cookie:
                    cookie = new
                    if measured:
                        result.cookie_updates += 1
            if not measured:
                if problem:
                    result.warmup_failures += 1
                continue
            result.last_end = end
            if problem:
                result.failures[problem] += 1
            else:
                result.latencies.append(end - start)
    finally:
        conn.close()


def run_load(label: str, port: int, path: str, expect: bytes, concurrency: int,
             warmup: float, seconds: float, cookie_name: str | None = None,
             cookie: str | None = None) -> LoadResult:
    """``concurrency`` threads hit ``path`` for ``warmup`` + ``seconds`` seconds."""
    begin = time.perf_counter()
    measure_from = begin + warmup
    deadline = measure_from + seconds
    results = [ThreadResult() for _ in range(concurrency)]
    threads = [
        threading.Thread(
            target=_load_thread, name=f"load-{i}", daemon=True,
            args=(port, path, cookie_name, cookie, expect, measure_from, deadline, results[i]),
        )
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    join_until = deadline + REQUEST_TIMEOUT + 5
    for thread in threads:
        thread.join(timeout=max(0.1, join_until - time.perf_counter()))
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    for result in results:
        latencies.extend(result.latencies)
        failures.update(result.failures)
    last_end = max([r.last_end for r in results] + [deadline])
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        failures[f"{stuck} load thread(s) still running at the end"] += stuck
    cpu = (cpu_end.ru_utime + cpu_end.ru_stime) - (cpu_start.ru_utime + cpu_start.ru_stime)
    return LoadResult(
        label=label,
        seconds=last_end - measure_from,
        latencies=latencies,
        failures=failures,
        warmup_failures=sum(r.warmup_failures for r in results),
        cookie_updates=sum(r.cookie_updates for r in results),
        client_cpu=cpu,
    )


def probe(port: int, path: str, cookie_name: str | None, cookie: str | None,
          expect: bytes) -> str | None:
    """One request before the load; returns what is wrong, or None."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        headers = {"Cookie": f"{cookie_name}={cookie}"} if cookie_name and cookie else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            return f"status {response.status} (Location: {response.getheader('Location')})"
        if expect not in body:
            return f"the body does not contain {expect.decode()!r}"
        return None
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


# -- wrk, a load generator that uses little CPU ---------------------------------

WRK_HINT = "wrk is not installed; for figures with a load generator that uses little CPU: " \
           "sudo apt-get install wrk"


@dataclass
class WrkResult:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx answers and socket errors
    cpu: float  # CPU seconds wrk used
    seconds: float


def _ms(text: str) -> float:
    """wrk's "1.23ms" / "512.00us" / "1.01s" in milliseconds."""
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * factor
    return math.nan


def run_wrk(label: str, port: int, path: str, concurrency: int, seconds: float,
            cookie_name: str | None = None, cookie: str | None = None) -> WrkResult | None:
    """``wrk`` (one thread, ``concurrency`` connections) against ``path``; None without wrk.

    wrk does not read the bodies, so the Python load before it is what checks them; here
    only the status codes are counted."""
    import re

    exe = shutil.which("wrk")
    if exe is None:
        return None
    cmd = [exe, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency",
           "-H", "Accept-Language: nb", "-H", "Accept: text/html"]
    if cookie_name and cookie:
        cmd += ["-H", f"Cookie: {cookie_name}={cookie}"]
    cmd.append(f"http://{HOST}:{port}{path}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                         check=False).stdout
    elapsed = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)

    def found(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, out)
        return match.group(1) if match else default

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return WrkResult(
        label=label, rps=float(found(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(found(r"50%\s+(\S+)", "nan")), p99_ms=_ms(found(r"99%\s+(\S+)", "nan")),
        requests=int(found(r"(\d+) requests in")),
        bad=int(found(r"Non-2xx or 3xx responses: (\d+)")) + errors,
        cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        seconds=elapsed)


# -- memory --------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the processes whose parent is the master."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if f"\nPPid:\t{master}\n" in status:
            pids.append(int(entry.name))
    return sorted(pids)


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in KiB: now, and the peak so far."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _sep, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def fire(port: int, path: str, cookie_name: str, cookie: str, count: int,
         threads: int = 4) -> int:
    """Send ``count`` GETs of ``path`` from ``threads`` threads; returns the failures."""
    failures = [0] * threads

    def one(n: int, share: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        for _ in range(share):
            try:
                conn.request("GET", path, headers={"Cookie": f"{cookie_name}={cookie}",
                                                   "Accept-Language": "nb"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures[n] += 1
            except (OSError, http.client.HTTPException):
                conn.close()
                failures[n] += 1
        conn.close()

    shares = [count // threads + (1 if n < count % threads else 0) for n in range(threads)]
    workers = [threading.Thread(target=one, args=(n, shares[n]), daemon=True)
               for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(failures)


def memory_run(server: Server, path: str, cookie_name: str, cookie: str) -> None:
    """RSS of each worker after 1,000 ... 10,000 requests of ``path``: it must stay flat
    after the first 1,000 (a leak shows as growth from one checkpoint to the next)."""
    pids = worker_pids(server.proc.pid)
    print(f"memory of the {len(pids)} gunicorn workers while serving {path} "
          "(VmRSS now / VmHWM peak, MiB):")
    sent = failed = 0
    baseline: dict[int, int] = {}
    for checkpoint in MEMORY_CHECKPOINTS:
        failed += fire(server.port, path, cookie_name, cookie, checkpoint - sent)
        sent = checkpoint
        cells = []
        for pid in pids:
            try:
                rss, peak = memory_kib(pid)
            except OSError:
                cells.append(f"pid {pid}: gone")
                continue
            baseline.setdefault(pid, rss)
            cells.append(f"pid {pid}: {rss / 1024:.1f} / {peak / 1024:.1f} "
                         f"({(rss - baseline[pid]) / 1024:+.1f})")
        print(f"  after {checkpoint:>6,} requests: " + "; ".join(cells))
    print(f"  growth is counted from the first checkpoint; failed requests: {failed}")


# -- report --------------------------------------------------------------------

HEADER = f"{'target':<28}{'requests':>9}{'rps':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}" \
         f"{'failed':>8}"


def row(result: LoadResult) -> str:
    return (f"{result.label:<28}{result.requests:>9}{result.rps:>9.1f}"
            f"{result.percentile_ms(50):>9.1f}{result.percentile_ms(95):>9.1f}"
            f"{result.percentile_ms(99):>9.1f}{result.failed:>8}")


def details(result: LoadResult) -> None:
    print(f"  measured {result.seconds:.2f} s; load generator CPU "
          f"{result.client_cpu:.1f} s ({100 * result.client_cpu / max(result.seconds, 1e-9):.0f}%"
          f" of one core); responses that changed the session cookie: "
          f"{result.cookie_updates}")
    if result.warmup_failures:
        print(f"  failures during warm-up: {result.warmup_failures}")
    for problem, count in result.failures.most_common(MAX_EXAMPLES):
        print(f"  FAILED {count}x: {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="measured seconds per target (default 10)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="client threads, one connection each (default 8)")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="unmeasured seconds before each measurement (default 2)")
    parser.add_argument("--database-url", default="",
                        help="use this database (e.g. a throwaway postgresql+psycopg:// URL) "
                             "instead of a fresh temporary SQLite file; it is migrated and "
                             "the demo data is loaded into it")
    parser.add_argument("--no-wrk", action="store_true",
                        help="leave out the second measurement with wrk")
    parser.add_argument("--memory", action="store_true",
                        help="also read each worker's memory over 10,000 home requests")
    args = parser.parse_args(argv)
    seconds = min(max(args.seconds, 0.5), 600.0)
    warmup = min(max(args.warmup, 0.0), 60.0)
    concurrency = min(max(args.concurrency, 1), 256)

    tmp = Path(tempfile.mkdtemp(prefix="folge-bench-"))
    server: Server | None = None
    try:
        url = args.database_url or f"sqlite:///{tmp / 'folge.sqlite3'}"
        secret_key = secrets.token_urlsafe(48)
        print(f"Følge home latency benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        print(f"machine: {os.cpu_count()} cores (os.cpu_count()), {platform.system()} "
              f"{platform.machine()}, Python {platform.python_version()}, "
              f"Flask {version('flask')}, gunicorn {version('gunicorn')}")
        print(f"database: {shown_url(url)}")
        print(f"load: {concurrency} threads, one HTTP/1.1 connection each, "
              f"{warmup:g} s warm-up + {seconds:g} s measured per target; "
              f"gunicorn {WORKERS} sync workers on {HOST}")
        print(f"1-minute load average before: {load_average()} "
              "(anything else running on the machine skews the figures)")
        print("preparing the database and signing in the demo patient and doctor ...",
              flush=True)
        cookie_name, cookie, staff_cookie = prepare_database(url, secret_key)
        env = server_env(secret_key, url)
        # The app's own /healthz (no session, no query, no template) shows what Følge's
        # middleware costs before any page work: security headers, the request hooks,
        # whitenoise. A page can be no faster than that.
        targets = [(f"signed-in home {HOME_PATH}", HOME_PATH, cookie, DEMO_NAME.encode()),
                   *((label, path, staff_cookie, marker) for label, path, marker in STAFF_PAGES),
                   ("Følge /healthz (the floor)", "/healthz", "", b"ok")]

        results: list[LoadResult] = []
        wrk_results: list[WrkResult | None] = []
        server = start_gunicorn("wsgi:app", env, tmp / "gunicorn-app.log")
        for label, path, who, expect in targets:
            problem = probe(server.port, path, cookie_name, who, expect)
            if problem:
                print(f"WARNING: the first GET {path} failed: {problem}")
            print(f"loading GET {path} ...", flush=True)
            results.append(run_load(label, server.port, path, expect, concurrency, warmup,
                                    seconds, cookie_name, who))
            if not args.no_wrk:
                wrk_results.append(run_wrk(label, server.port, path, concurrency, seconds,
                                           cookie_name, who))
        if args.memory:
            print(flush=True)
            memory_run(server, HOME_PATH, cookie_name, cookie)
        stop_gunicorn(server)
        server = None

        server = start_gunicorn("bare_app:app", env, tmp / "gunicorn-bare.log",
                                ["--pythonpath", str(BENCH_DIR)])
        problem = probe(server.port, BARE_PATH, None, None, b"ok")
        if problem:
            print(f"WARNING: the first GET {BARE_PATH} on the bare app failed: {problem}")
        print(f"loading GET {BARE_PATH} on bench/bare_app.py ...", flush=True)
        bare = run_load(f'bare Flask "ok" {BARE_PATH}', server.port, BARE_PATH, b"ok",
                        concurrency, warmup, seconds)
        bare_wrk = None if args.no_wrk else run_wrk(f'bare Flask "ok" {BARE_PATH}',
                                                    server.port, BARE_PATH, concurrency,
                                                    seconds)
        stop_gunicorn(server)
        server = None

        print()
        print("Python load generator (checks every body):")
        print(HEADER)
        for result in (*results, bare):
            print(row(result))
        for result in (*results, bare):
            print(f"{result.label}:")
            details(result)
        print()
        print("rps(page) / rps(bare) with the Python load generator (target >= 0.5):")
        for result in results:
            print(f"  {result.label:<28}{result.rps / bare.rps if bare.rps else math.nan:6.2f}"
                  f"   p50 {result.percentile_ms(50):.1f} ms against "
                  f"{bare.percentile_ms(50):.1f} ms")
        print()
        if args.no_wrk:
            print("wrk: left out (--no-wrk)")
        elif bare_wrk is None:
            print(WRK_HINT)
        else:
            print(f"wrk (1 thread, {concurrency} connections, {seconds:g} s per target; "
                  "counts status codes only):")
            print(f"{'target':<28}{'requests':>9}{'rps':>9}{'p50 ms':>9}{'p99 ms':>9}"
                  f"{'bad':>6}{'wrk CPU':>9}{'ratio':>7}")
            for found in (*wrk_results, bare_wrk):
                if found is None:
                    continue
                share = 100 * found.cpu / max(found.seconds, 1e-9)
                page_ratio = found.rps / bare_wrk.rps if bare_wrk.rps else math.nan
                print(f"{found.label:<28}{found.requests:>9}{found.rps:>9.1f}"
                      f"{found.p50_ms:>9.1f}{found.p99_ms:>9.1f}{found.bad:>6}"
                      f"{share:>8.0f}%{page_ratio:>7.2f}")
            print("  (wrk CPU: the share of one core wrk itself used; ratio: rps(page) / "
                  "rps(bare) under wrk)")
        print(f"cores: {os.cpu_count()} (the load generator runs on the same machine); "
              f"1-minute load average after: {load_average()} (includes this run)")
        if any(r.failed for r in results) or bare.failed:
            print("NOTE: some requests failed; the figures above count only successful ones.")
        return 0
    finally:
        stop_gunicorn(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
