"""Requests per second and latency of the signed-in patient home, next to a bare Flask app.

Run by hand from the project root:

    .venv/bin/python bench/home_latency.py [--seconds 10] [--concurrency 8]
                                           [--warmup 2] [--database-url URL]

It builds a fresh SQLite database in a temporary directory (or uses
``--database-url``, e.g. a throwaway PostgreSQL database), runs the
migrations, loads the demo data, signs in the demo patient Kari Nordmann
without the UI, and serves ``wsgi:app`` with gunicorn (2 sync workers) on
127.0.0.1. It then loads ``GET /me/`` from Python threads, one HTTP
connection each, and prints requests, requests per second and p50/p95/p99
latency. The same load then goes to ``bench/bare_app.py`` (one route that
answers "ok") under the same gunicorn settings, and the ratio between the two
is printed. It prints figures and asserts nothing.
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
HOME_PATH = "/me/"
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


def prepare_database(url: str, secret_key: str) -> tuple[str, str]:
    """Migrate and seed ``url``; sign in the demo patient.

    Returns the session cookie's name and value, signed with ``secret_key``.
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
        db.session.remove()
        db.engine.dispose()
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    if serializer is None:
        raise SystemExit("Flask could not sign a session cookie (no secret key?).")
    value = serializer.dumps({"_user_id": token, "_fresh": True})
    return str(app.config["SESSION_COOKIE_NAME"]), value


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


def ratio(a: float, b: float) -> str:
    if b == 0 or math.isnan(a) or math.isnan(b):
        return "n/a"
    return f"{a / b:.1f}x"


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
        print("preparing the database and signing in the demo patient ...", flush=True)
        cookie_name, cookie = prepare_database(url, secret_key)
        env = server_env(secret_key, url)

        server = start_gunicorn("wsgi:app", env, tmp / "gunicorn-home.log")
        problem = probe(server.port, HOME_PATH, cookie_name, cookie, DEMO_NAME.encode())
        if problem:
            print(f"WARNING: the first GET {HOME_PATH} failed: {problem}")
        print(f"loading GET {HOME_PATH} (signed in as {DEMO_NAME}) ...", flush=True)
        home = run_load(f"signed-in home {HOME_PATH}", server.port, HOME_PATH,
                        DEMO_NAME.encode(), concurrency, warmup, seconds,
                        cookie_name, cookie)
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
        stop_gunicorn(server)
        server = None

        print()
        print(HEADER)
        for result in (home, bare):
            print(row(result))
        for result in (home, bare):
            print(f"{result.label}:")
            details(result)
        print()
        print(f"rps(bare) / rps(home): {ratio(bare.rps, home.rps)}")
        print(f"p50(home) / p50(bare): "
              f"{ratio(home.percentile_ms(50), bare.percentile_ms(50))}")
        print(f"cores: {os.cpu_count()} (the load generator runs on the same machine); "
              f"1-minute load average after: {load_average()} (includes this run)")
        if home.failed or bare.failed:
            print("NOTE: some requests failed; the figures above count only successful ones.")
        return 0
    finally:
        stop_gunicorn(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
