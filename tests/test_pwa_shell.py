"""The installable shell as served: manifest, service worker, icons, offline page."""

from __future__ import annotations

import json
import re
import struct

import pytest

from server.config import PROJECT_ROOT
from tests.conftest import Client, World, sign_in_as


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_manifest_is_neutral_and_installable(client: Client) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["name"] == manifest["short_name"] == "Følge"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    text = json.dumps(manifest).lower()
    for word in ("lar", "rus", "opioid", "metadon", "behandling"):
        assert f'"{word}' not in text and f" {word}" not in text
    sizes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        data = client.get(icon["src"]).data
        width, height = png_size(data)
        assert f"{width}x{height}" == icon["sizes"]


def test_service_worker_is_at_the_root_and_never_cached(client: Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.text
    assert "__SHELL_VERSION__" not in body
    for path in ("/static/css/app.", "/offline/", "/manifest.webmanifest"):
        assert path in body


def test_service_worker_version_follows_the_shell_files(client: Client) -> None:
    version = client.get("/sw.js").text.split('const VERSION = "')[1].split('"')[0]
    assert len(version) == 12 and version.isalnum()


def test_every_precached_file_exists(client: Client) -> None:
    body = (PROJECT_ROOT / "pwa" / "sw.js").read_text()
    shell = body.split("const SHELL = [")[1].split("];")[0]
    paths = [p.strip().strip('",') for p in shell.splitlines() if p.strip().startswith('"/')]
    assert len(paths) >= 6
    for path in paths + ["/offline/nb", "/offline/nn", "/offline/en"]:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(("lang", "heading"), [
    ("nb", "Ingen tilkobling"), ("nn", "Inga tilkopling"), ("en", "No connection"),
])
def test_offline_page_is_translated(client: Client, lang: str, heading: str) -> None:
    page = client.get(f"/offline/{lang}").text
    assert f'<html lang="{lang}">' in page
    assert heading in page


def test_offline_page_for_unknown_language_is_404(client: Client) -> None:
    assert client.get("/offline/de").status_code == 404


def test_only_the_opted_in_pages_are_ever_cached(client: Client, world: World) -> None:
    """The appointment list and the crisis plan, each only after its own "keep on this
    phone"; nothing of staff."""
    body = (PROJECT_ROOT / "pwa" / "sw.js").read_text()
    assert "/staff" not in body
    assert sorted(re.findall(r'"(/me/[^"]*)"', body)) == ["/me/appointments/", "/me/crisis-plan"]
    # The personal copy is written only while the per-device choice is on.
    assert "await keeping(kept)" in body and body.count("PERSONAL_CACHE)).put(") == 2
    sign_in_as(client, world.patient_x.user)
    assert client.get("/me/").headers["Cache-Control"] == "no-store"


def test_pages_link_the_manifest_and_register_the_worker(client: Client) -> None:
    page = client.get("/sign-in").text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert (PROJECT_ROOT / "static" / "js" / "app.js").read_text().count('register("/sw.js"') == 1
