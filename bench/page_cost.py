"""What one request of the busiest pages costs inside the app: statements, Python function
calls and CPU time, on the demo data, through the Flask test client.

Run by hand from the project root:

    .venv/bin/python bench/page_cost.py [--requests 300] [--database-url URL]

Statements and function calls do not depend on what else the machine is doing, so they
compare two versions of the code even on a busy 2-core machine where requests per second
(bench/home_latency.py) swing by a factor of two. CPU time is the process's own
(time.process_time), which other processes disturb far less than wall time. It prints
figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.common import StatementCounter, load_average, shown_url, signed_in_client  # noqa: E402

#: (label, path, who signs in: the demo patient's phone or the demo doctor's e-mail)
PAGES = (
    ("patient home", "/me/", "+4791234567"),
    ("staff Today", "/staff/", "lege@demo.folge.test"),
    ("staff worklist", "/staff/worklist", "lege@demo.folge.test"),
    ("staff inbox", "/staff/messages/", "lege@demo.folge.test"),
)
WARMUP = 30
PROFILED = 50


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300,
                        help="timed requests per page (default 300)")
    parser.add_argument("--database-url", default="",
                        help="a throwaway database to migrate and fill with the demo data "
                             "(default: a temporary SQLite file)")
    parser.add_argument("--top", type=int, default=0,
                        help="also print, per page, the N functions with the most time of "
                             "their own and the N with the most time below them (cProfile)")
    args = parser.parse_args(argv)
    requests = min(max(args.requests, 10), 100_000)

    from sqlalchemy import event, or_, select

    from server import create_app, demo
    from server.cli import run_migrations
    from server.config import Config
    from server.extensions import db
    from server.models import User
    from server.services import sessions

    tmp = Path(tempfile.mkdtemp(prefix="folge-bench-"))
    try:
        url = args.database_url or f"sqlite:///{tmp / 'folge.sqlite3'}"
        key = secrets.token_urlsafe(32)
        run_migrations(url)
        app = create_app(Config(
            env="development", secret_key=key, database_url=url,
            data_keys=(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()).decode(),),
            ratelimit_storage_uri="memory://"))
        counter = StatementCounter()
        profiles: list[tuple[str, cProfile.Profile]] = []
        tokens = {}
        with app.app_context():
            demo.seed()
            for _label, _path, who in PAGES:
                user = db.session.scalar(select(User).where(or_(User.phone == who,
                                                                User.email == who)))
                if user is None:
                    raise SystemExit(f"{who} is missing from the demo data")
                tokens.setdefault(who, sessions.start(user))
            event.listen(db.engine, "before_cursor_execute", counter)
            db.session.remove()
        print(f"Følge page cost, database {shown_url(url)}, {requests} timed requests per "
              f"page; 1-minute load average {load_average()}")
        print(f"{'page':<16}{'statements':>11}{'calls':>9}{'CPU ms p50':>12}{'p95':>8}"
              f"{'KiB':>7}")
        for label, path, who in PAGES:
            client = signed_in_client(app, tokens[who])
            for _ in range(WARMUP):
                response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")
            counter.reset()
            client.get(path)
            statements = counter.total
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(PROFILED):
                client.get(path)
            profile.disable()
            calls = pstats.Stats(profile).total_calls / PROFILED  # type: ignore[attr-defined]
            if args.top > 0:
                profiles.append((label, profile))
            times = []
            for _ in range(requests):
                began = time.process_time()
                client.get(path)
                times.append((time.process_time() - began) * 1000)
            times.sort()
            print(f"{label:<16}{statements:>11}{calls:>9.0f}{statistics.median(times):>12.2f}"
                  f"{times[int(0.95 * (len(times) - 1))]:>8.2f}"
                  f"{len(response.data) / 1024:>7.1f}")
        print("statements: sent for one request after the warm-up; calls: Python function "
              f"calls per request (cProfile over {PROFILED}); CPU: this process's time")
        for label, profile in profiles:
            for order in ("tottime", "cumulative"):
                print(f"\n{label}: the {args.top} functions with the most {order} "
                      f"(over {PROFILED} requests)")
                pstats.Stats(profile, stream=sys.stdout).sort_stats(order).print_stats(args.top)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
