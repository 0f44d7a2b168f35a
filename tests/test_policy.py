"""Default deny: a route x role matrix over every registered endpoint."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, Flask

from server import policy
from server.models import Role
from tests.conftest import Client, World, call, endpoint_urls, sign_in_as

SIGN_IN_PAGES = ("/sign-in", "/staff/sign-in")

#: Pages for a clinic's former patients only: 404 for a patient who is still there
#: (tests/test_transfers.py opens them after a move).
FORMER_ONLY = ("staff_team.former_patient",)

#: Endpoints that end what later requests of the same user need.
ENDING = ("relative.leave", "auth.sign_out", "patient.stop_using")


def _ending_last(entry: tuple[str, str, str]) -> bool:
    return entry[0] in ENDING


def test_the_matrix_covers_every_endpoint(app: Flask, things: dict[str, int | str]) -> None:
    endpoints = {e for e, _, _ in endpoint_urls(app, things)}
    assert len(endpoints) >= 25
    for endpoint in endpoints:
        blueprint = endpoint.split(".")[0]
        assert policy.is_public(endpoint) or endpoint in policy.ANY_SIGNED_IN \
            or blueprint in policy.AREA_ROLES, f"{endpoint} is in no area: it would be refused"


def test_every_endpoint_is_public_or_refuses_anonymous_users(
    app: Flask, things: dict[str, int | str], client: Client
) -> None:
    for endpoint, method, url in endpoint_urls(app, things):
        response = call(client, method, url)
        if policy.is_public(endpoint):
            assert response.status_code < 500, endpoint
            assert response.status_code != 401, endpoint
        else:
            assert response.status_code in (302, 401), f"{endpoint} answered {response.status_code}"
            if response.status_code == 302:
                assert response.headers["Location"].split("?")[0].endswith(SIGN_IN_PAGES), \
                    endpoint


@pytest.mark.parametrize("who", ["patient_x", "relative", "doctor_a", "nurse_b"])
def test_roles_only_reach_their_own_areas(
    app: Flask, world: World, things: dict[str, int | str], client: Client, who: str
) -> None:
    user = world.patient_x.user if who == "patient_x" else getattr(world, who)
    sign_in_as(client, user)
    for endpoint, method, url in sorted(endpoint_urls(app, things), key=_ending_last):
        if policy.is_public(endpoint) or endpoint in policy.ANY_SIGNED_IN:
            continue
        allowed = user.role in policy.AREA_ROLES[endpoint.split(".")[0]]
        response = call(client, method, url)
        if endpoint.startswith("fhir."):  # a session is no access token (tests/test_fhir.py)
            assert response.status_code == 401, f"{who} on {endpoint}"
            continue
        if not allowed:
            assert response.status_code == 404, f"{who} reached {endpoint}"
        elif who == "nurse_b" and url.startswith("/staff") and re.search(r"/\d+", url):
            assert response.status_code == 404, f"{who} reached patient X of clinic A: {endpoint}"
        elif endpoint in FORMER_ONLY:
            assert response.status_code == 404, f"{who} on {endpoint}"
        else:
            assert response.status_code in (200, 302, 400, 403), \
                f"{who} on {endpoint}: {response.status_code}"


def test_staff_of_another_clinic_get_404_on_every_patient_page(
    app: Flask, world: World, things: dict[str, int | str], client: Client
) -> None:
    sign_in_as(client, world.nurse_b)
    patient_urls = [(e, m, u) for e, m, u in endpoint_urls(app, things)
                    if u.startswith("/staff") and re.search(r"/\d+", u)]
    assert len(patient_urls) >= 5
    for endpoint, method, url in patient_urls:
        assert call(client, method, url).status_code == 404, endpoint
    for missing in (f"/staff/patients/{world.patient_b.id + 1000}",):
        assert client.get(missing).status_code == 404


def test_patient_x_cannot_open_anything_of_patient_y(
    app: Flask, world: World, client: Client
) -> None:
    sign_in_as(client, world.patient_x.user)
    for url in (f"/staff/patients/{world.patient_y.id}",
                f"/staff/patients/{world.patient_y.id}/phone"):
        assert client.get(url).status_code == 404
    home = client.get("/me/")
    assert "Xena Pasient" in home.text and "Yngve Pasient" not in home.text


def test_staff_search_never_shows_other_clinics(world: World, client: Client) -> None:
    sign_in_as(client, world.doctor_a)
    response = client.get("/staff/patients?q=Berit")
    assert "Berit Pasient" not in response.text
    assert "No patients match" in response.text
    response = client.get("/staff/patients?q=xena")
    assert "Xena Pasient" in response.text and "Yngve Pasient" not in response.text


def test_only_coordinators_and_admins_may_disable(world: World, client: Client,
                                                  new_client) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, world.doctor_a)
    url = f"/staff/patients/{world.patient_x.id}/disable"
    assert call(client, "POST", url).status_code == 403
    assert world.patient_x.user.disabled_at is None
    page = client.get(f"/staff/patients/{world.patient_x.id}")
    assert "Disable the account" not in page.text
    coordinator = new_client()
    sign_in_as(coordinator, world.coordinator_a)
    assert call(coordinator, "POST", url).status_code == 302
    assert world.patient_x.user.disabled_at is not None


def test_an_endpoint_in_no_known_area_is_refused(app: Flask, world: World, client: Client) -> None:
    mystery = Blueprint("mystery", __name__)
    mystery.add_url_rule("/mystery", "page", lambda: "secret")
    app.register_blueprint(mystery)
    assert client.get("/mystery").status_code == 302
    sign_in_as(client, world.patient_x.user)
    assert client.get("/mystery").status_code == 404
    assert Role.PATIENT in policy.AREA_ROLES["patient"]


def test_each_role_lands_on_its_own_home(world: World, new_client) -> None:  # type: ignore[no-untyped-def]
    for user, home, text in ((world.patient_x.user, "/me/", "Xena Pasient"),
                             (world.relative, "/relative/", "Rita Pårørende"),
                             (world.doctor_a, "/staff/", "Waiting for the clinic")):
        browser = new_client()
        sign_in_as(browser, user)
        response = browser.get("/")
        assert response.headers["Location"].endswith(home)
        assert text in browser.get(home).text


@pytest.mark.parametrize("area", ["appointments.", "take_home."])
def test_another_patient_gets_404_on_every_page_of_mine(
    app: Flask, world: World, things: dict[str, int | str], client: Client, area: str
) -> None:
    urls = [(e, m, u) for e, m, u in endpoint_urls(app, things)
            if e.startswith(area) and re.search(r"/\d+", u)]
    assert len(urls) >= 4
    sign_in_as(client, world.patient_y.user)
    for endpoint, method, url in urls:
        assert call(client, method, url).status_code == 404, endpoint
