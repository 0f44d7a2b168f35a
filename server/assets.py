"""Static files: hashed names, precompressed, served by WhiteNoise.

At start-up the files in ``static/`` are copied once into ``instance/static-build/<version>``
with a content hash in each name (``css/app.css`` -> ``css/app.3f2a1b9c0d.css``), next to
the plain names, and WhiteNoise's compressor writes a Brotli and a gzip copy of each. The
version folder is built in a temporary folder and renamed into place, so gunicorn workers
starting side by side never see half a build. ``url_for("static", ...)`` gives the hashed
name (a ``url_defaults`` hook), which is cached for a year as immutable; the plain names,
still asked for by a service worker of an older version, are cached for an hour.

WhiteNoise answers before Flask does, so the security headers Flask adds are added here
too (``_headers``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

#: A hashed name: a dot, ten hex digits, then the extension.
HASHED = re.compile(r"\.[0-9a-f]{10}\.[A-Za-z0-9]+$")
_SKIP = (".gz", ".br")


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith(_SKIP))


def _hashed_name(relative: str, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()[:10]
    stem, dot, extension = relative.rpartition(".")
    return f"{stem}.{digest}.{extension}" if dot else f"{relative}.{digest}"


def build(source: Path, target_root: Path) -> tuple[Path, dict[str, str]]:
    """Build (once) the hashed and compressed copy of ``source``; return its folder and the
    manifest (plain name -> hashed name)."""
    manifest: dict[str, str] = {}
    overall = hashlib.sha256()
    contents: dict[str, bytes] = {}
    for path in _files(source):
        relative = path.relative_to(source).as_posix()
        data = path.read_bytes()
        contents[relative] = data
        manifest[relative] = _hashed_name(relative, data)
        overall.update(relative.encode() + b"\0" + data)
    folder = target_root / overall.hexdigest()[:12]
    if (folder / "manifest.json").exists():
        return folder, manifest
    target_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target_root))
    try:
        compressor = Compressor(quiet=True)
        for relative, data in contents.items():
            for name in (relative, manifest[relative]):
                out = work / name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
                if compressor.should_compress(str(out)):
                    list(compressor.compress(str(out)))
        (work / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        try:
            os.replace(work, folder)
        except OSError:  # another worker got there first: its build is the same
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _prune(target_root, keep=folder)
    return folder, manifest


def _prune(target_root: Path, keep: Path, versions: int = 3) -> None:
    """Remove old builds, keeping the newest few (a worker of the previous version may
    still be running during a deploy)."""
    builds = sorted((p for p in target_root.iterdir() if p.is_dir() and not p.name.startswith(".")
                     and p != keep), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[versions - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def _headers(headers: Any, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"


def init_app(app: Flask) -> None:
    static = Path(str(app.static_folder))
    folder, manifest = build(static, Path(app.instance_path) / "static-build")
    app.extensions["folge_assets"] = manifest

    @app.url_defaults
    def hashed_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app, root=str(folder), prefix="static/", max_age=3600,
        immutable_file_test=lambda path, url: bool(HASHED.search(url)),
        add_headers_function=_headers)


def hashed_url(app: Flask, filename: str) -> str:
    """``/static/<hashed name>`` of a file in static/ (for the service worker's list)."""
    manifest: dict[str, str] = app.extensions.get("folge_assets", {})
    return "/static/" + manifest.get(filename, filename)
