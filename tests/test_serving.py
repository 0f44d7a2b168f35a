"""Issue 13, serving: static files under hashed names, precompressed (Brotli and gzip) and
cached for a year; pages compressed in the app; the demo on the port it was given."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from server.config import PROJECT_ROOT
from tests.conftest import Client


def _css_url(client: Client) -> str:
    found = re.search(r'href="(/static/css/app\.[0-9a-f]{10}\.css)"', client.get("/sign-in").text)
    assert found, "the page does not ask for the hashed stylesheet"
    return found.group(1)


def test_pages_ask_for_hashed_names_cached_for_a_year(client: Client) -> None:
    url = _css_url(client)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert response.data == (PROJECT_ROOT / "static/css/app.css").read_bytes()
    # Security headers on files WhiteNoise serves, too.
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The plain name still works (an older service worker), with a short lifetime.
    plain = client.get("/static/css/app.css")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "max-age=3600, public"


def test_static_files_come_precompressed(client: Client) -> None:
    url = _css_url(client)
    original = (PROJECT_ROOT / "static/css/app.css").read_bytes()
    br = client.get(url, headers={"Accept-Encoding": "br, gzip"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.data) == original
    assert len(br.data) < len(original) / 3
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.data) == original


def test_pages_are_compressed_when_the_browser_accepts_it(client: Client) -> None:
    plain = client.get("/sign-in")
    packed = client.get("/sign-in", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    text = gzip.decompress(packed.data).decode()
    assert "Sign in to Følge" in text and len(packed.data) < len(plain.data) / 2


# The test's own app with compression off (overriding the config_overrides fixture), so it is
# torn down like every other: a second app made inside a test left a connection to the
# garbage collector on PostgreSQL.
@pytest.mark.parametrize("config_overrides", [{"compress": False}])
def test_compression_can_be_left_to_a_proxy(client: Client) -> None:
    response = client.get("/sign-in", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
    assert "Sign in to Følge" in response.text


def test_the_service_worker_keeps_the_hashed_names(client: Client) -> None:
    body = client.get("/sw.js").text
    # Both names: pages ask for the hashed one, modules import each other by the plain one.
    assert re.search(r'"/static/css/app\.css", "/static/css/app\.[0-9a-f]{10}\.css"', body)
    for path in re.findall(r'"(/static/[^"]+)"', body):
        assert client.get(path).status_code == 200, path


def test_the_demo_uses_the_port_it_is_given() -> None:
    script = (PROJECT_ROOT / "scripts/run-demo.sh").read_text()
    assert "export PORT=${PORT:-8000}" in script
    banner = script.split("cat <<INFO")[1].split("INFO\n")[0]
    assert "${PORT}" in banner and "8000" not in banner
