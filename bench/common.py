"""Helpers shared by the benchmarks in bench/: what the machine is doing, counting SQL
statements, percentiles, timed renders through the Flask test client, and a throwaway
PostgreSQL cluster. Figures only; nothing here asserts a time."""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def shown_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def load_average() -> str:
    """The 1-minute load average: other work on the machine skews the figures."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def version(module: str) -> str:
    """The installed version of a distribution, or "?"."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version(module)
    except PackageNotFoundError:
        return "?"


class StatementCounter:
    """Counts statements sent to the database, by kind and table (a SQLAlchemy
    ``before_cursor_execute`` listener)."""

    _TABLE = re.compile(r"^\s*(SELECT\b.*?\bFROM|INSERT INTO|UPDATE|DELETE FROM|COPY)\s+\"?(\w+)",
                        re.IGNORECASE | re.DOTALL)

    def __init__(self) -> None:
        self.total = 0
        self.kinds: Counter[str] = Counter()

    def reset(self) -> None:
        self.total = 0
        self.kinds = Counter()

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                 executemany: bool) -> None:
        self.total += 1
        match = self._TABLE.match(statement)
        if match:
            self.kinds[f"{match.group(1).split()[0].upper()} {match.group(2)}"] += 1
        else:
            self.kinds[statement.split(None, 1)[0].upper() if statement.strip() else "?"] += 1


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


@dataclass
class Renders:
    label: str
    times_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    size_kb: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return percentile(self.times_ms, 95)

    @property
    def query_text(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


def measure(label: str, get: Callable[[], Any], expect: str, counter: StatementCounter,
            warmup: int, renders: int) -> Renders:
    """GET ``warmup`` times unmeasured, then ``renders`` times timed and counted."""
    result = Renders(label)
    for n in range(warmup + renders):
        counter.reset()
        began = time.perf_counter()
        response = get()
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != 200 or expect not in response.text:
            raise SystemExit(f"{label}: got {response.status_code} "
                             f"{response.headers.get('Location', '')} without {expect!r}")
        if n >= warmup:
            result.times_ms.append(elapsed)
            result.queries.append(counter.total)
            result.kinds = counter.kinds
            result.size_kb = len(response.data) / 1024
    return result


def signed_in_client(app: Any, token: str, language: str = "nb") -> Any:
    """A test client holding the server-side session ``token`` (see sessions.start)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = token
        flask_session["_fresh"] = True
    return client


def bulk_insert(model: Any, rows: list[dict[str, Any]], returning: Any = None,
                batch: int = 5_000) -> list[int]:
    """Insert ``rows`` in batches (one executemany each); their ids when ``returning``."""
    from sqlalchemy import insert

    from server.extensions import db

    ids: list[int] = []
    for first in range(0, len(rows), batch):
        chunk = rows[first:first + batch]
        if returning is None:
            db.session.execute(insert(model), chunk)
        else:
            ids.extend(db.session.scalars(
                insert(model).returning(returning, sort_by_parameter_order=True), chunk))
    return ids


class Cluster:
    """A throwaway PostgreSQL cluster: initdb + pg_ctl in a temporary directory, a unix
    socket only, no TCP port, one database ``folge_bench`` (``url``). ``stop`` removes it.
    As root the tools run as the ``postgres`` user through ``runuser`` (initdb refuses root).
    Not ``durable``: fsync, synchronous_commit and full_page_writes off, as scripts/test.sh."""

    def __init__(self, durable: bool) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)])
        found = shutil.which("initdb")
        if not bins and not found:
            raise SystemExit("PostgreSQL is not installed (no initdb); install it, e.g. "
                             "apt-get install postgresql, or pass --database-url")
        self.bin = bins[-1].parent if bins else Path(found).parent  # type: ignore[arg-type]
        self.dir = Path(tempfile.mkdtemp(prefix="folge-bench-pg-"))
        self.as_pg: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root; run it as the postgres user
            shutil.chown(self.dir, "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]
        options = f"-c listen_addresses='' -k {self.dir}"
        if not durable:  # as scripts/test.sh: a crash of the cluster may lose data
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self.durable = durable
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8")
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w",
                  "-o", options, "start")
        self.started = True
        self._run("createdb", "-h", str(self.dir), "-U", "postgres", "folge_bench")
        self.url = f"postgresql+psycopg://postgres@/folge_bench?host={self.dir}"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_pg, str(self.bin / tool), *args], check=True,
                       stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        if getattr(self, "started", False):
            subprocess.run([*self.as_pg, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"),
                            "-m", "immediate", "stop"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def timed_calls(targets: list[tuple[Any, str]], add: Callable[[float], None]) -> Iterator[None]:
    """While open, each function ``getattr(owner, name)`` of ``targets`` is replaced by one
    that passes the seconds spent in it to ``add``; the originals are put back after."""
    originals = [(owner, name, getattr(owner, name)) for owner, name in targets]

    def timed(function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                add(time.perf_counter() - began)
        return wrapper

    for owner, name, function in originals:
        setattr(owner, name, timed(function))
    try:
        yield
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)
