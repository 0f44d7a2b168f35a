"""Lighthouse over the patient's main pages, on Debian's Chromium.

Run by hand from the project root (after ``cd bench/lighthouse && npm ci``):

    .venv/bin/python bench/lighthouse.py [--runs 1]

It builds a fresh SQLite database with the demo data, serves ``wsgi:app`` with gunicorn
(2 sync workers, the production static files and compression) on 127.0.0.1, signs in the
demo patient Kari Nordmann without the UI, and runs Lighthouse (mobile, its default
throttling) over the sign-in page, home, appointments and take-home. For each page it
prints the performance, accessibility and best-practices scores, LCP, CLS and the bytes
transferred on a cold load (compressed). Targets (issue 13): 100 / 100 / 100, LCP under
1.5 s, CLS 0, under 30 KiB. It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.common import load_average, version  # noqa: E402  (after the path above)
from bench.home_latency import (  # noqa: E402
    HOST,
    prepare_database,
    server_env,
    start_gunicorn,
    stop_gunicorn,
)

LIGHTHOUSE = BENCH_DIR / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
PAGES = (("sign-in", "/sign-in", False), ("home", "/me/", True),
         ("appointments", "/me/appointments/", True), ("take-home", "/me/take-home/", True))


def run_lighthouse(url: str, cookie: str | None, out: Path) -> dict[str, object]:
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    cmd = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           "--only-categories=performance,accessibility,best-practices",
           f"--chrome-flags={' '.join(flags)}"]
    if cookie:
        cmd.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(cmd, check=True, env=env, cwd=PROJECT_ROOT, timeout=300)  # noqa: S603
    report: dict[str, object] = json.loads(out.read_text())
    return report


def figures(report: dict[str, object]) -> dict[str, float]:
    categories = report["categories"]
    audits = report["audits"]
    assert isinstance(categories, dict) and isinstance(audits, dict)
    return {
        "performance": categories["performance"]["score"] * 100,
        "accessibility": categories["accessibility"]["score"] * 100,
        "best-practices": categories["best-practices"]["score"] * 100,
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "kib": audits["total-byte-weight"]["numericValue"] / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="Lighthouse runs per page (median)")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is missing: cd bench/lighthouse && npm ci")
    if not Path(CHROMIUM).exists():
        raise SystemExit("Chromium is missing: apt-get install chromium")
    work = Path(tempfile.mkdtemp(prefix="folge-lighthouse-"))
    server = None
    try:
        secret_key = secrets.token_urlsafe(32)
        url = f"sqlite:///{work / 'bench.sqlite3'}"
        cookie_name, cookie_value = prepare_database(url, secret_key)
        server = start_gunicorn("wsgi:app", server_env(secret_key, url), work / "gunicorn.log")
        base = f"http://{HOST}:{server.port}"
        print(f"Følge Lighthouse bench: lighthouse {_lighthouse_version()}, "
              f"flask-compress {version('flask-compress')}, whitenoise {version('whitenoise')}, "
              f"load {load_average()}, {args.runs} run(s) per page, mobile, cold cache")
        print(f"{'page':<14}{'perf':>6}{'a11y':>6}{'b.p.':>6}{'LCP s':>8}{'CLS':>7}{'KiB':>8}")
        for label, path, signed_in in PAGES:
            runs = []
            for n in range(args.runs):
                report = run_lighthouse(base + path,
                                        f"{cookie_name}={cookie_value}" if signed_in else None,
                                        work / f"{label}-{n}.json")
                runs.append(figures(report))
            mid = sorted(runs, key=lambda r: r["performance"])[len(runs) // 2]
            print(f"{label:<14}{mid['performance']:>6.0f}{mid['accessibility']:>6.0f}"
                  f"{mid['best-practices']:>6.0f}{mid['lcp_s']:>8.2f}{mid['cls']:>7.3f}"
                  f"{mid['kib']:>8.1f}")
    finally:
        stop_gunicorn(server)
        shutil.rmtree(work, ignore_errors=True)


def _lighthouse_version() -> str:
    package = BENCH_DIR / "lighthouse" / "node_modules" / "lighthouse" / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "?"


if __name__ == "__main__":
    main()
