"""Sign-in with ID-porten against a real OpenID provider on loopback (tests/oidc_provider.py):
PAR, PKCE, private_key_jwt, state, nonce and the level checked; the patient found by the keyed
hash of the national identity number; logout both ways."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
import requests
from jwskate import Jwk, JwkSet, Jwt
from sqlalchemy import func, select

from server.config import OidcSettings
from server.extensions import db
from server.models import PatientProfile, User
from server.models.session import UserSession
from server.national_id import oidc, pid
from server.national_id.models import OidcAttempt
from tests.conftest import Client, World, sign_in_as
from tests.oidc_provider import RunningProvider, openid_provider

PID_KEY = "test-pid-key-0123456789-abcdefghijklmnop"
KARI = "01017010170"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    with openid_provider(tmp_path_factory.mktemp("oidc")) as running:
        yield running


@pytest.fixture
def level() -> str:
    return "idporten-loa-substantial"


@pytest.fixture
def config_overrides(provider: RunningProvider, level: str) -> dict[str, Any]:
    oidc.forget_clients()
    return {"idporten": OidcSettings(issuer=provider.issuer, client_id="folge-idporten",
                                     jwks=provider.client_jwks("folge-idporten"), acr=level),
            "pid_key": PID_KEY}


@pytest.fixture
def kari(world: World) -> PatientProfile:
    """Patient X with her national identity number registered by the clinic."""
    world.patient_x.user.pid_hash = pid.keyed_hash(KARI, PID_KEY)
    world.patient_x.user.pid_masked = pid.masked(KARI)
    db.session.commit()
    return world.patient_x


def through_provider(client: Client, provider: RunningProvider, account: str = "kari",
                     start: str = "/sign-in/idporten") -> str:
    """Start in Følge, sign in at the provider as ``account``, and return the callback path
    the provider sends the browser back to (not yet opened)."""
    begun = client.get(start)
    assert begun.status_code == 302, begun.text
    browser = requests.Session()
    location = begun.headers["Location"]
    for _hop in range(10):
        if location.startswith("http://localhost/"):
            parts = urlsplit(location)
            return f"{parts.path}?{parts.query}"
        url = location if location.startswith("http") else provider.issuer + location
        page = browser.get(url, allow_redirects=False, timeout=10)
        if page.status_code == 200 and "<form" in page.text:
            action = re.search(r'action="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            page = browser.post(provider.issuer + action, data={"account": account},
                                allow_redirects=False, timeout=10)
        assert page.status_code in (302, 303), page.text
        location = page.headers["Location"]
    raise AssertionError("the provider never sent the browser back")


def open_sessions(user: User) -> list[UserSession]:
    return list(db.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))))


def test_a_patient_signs_in_with_idporten(client: Client, provider: RunningProvider,
                                          kari: PatientProfile) -> None:
    page = client.get("/sign-in")
    assert 'href="/sign-in/idporten"' in page.text and "With BankID (ID-porten)" in page.text
    kari.date_of_birth = None
    db.session.commit()
    back = client.get(through_provider(client, provider))
    assert back.status_code == 302 and back.headers["Location"].endswith("/me/")
    assert "Xena Pasient" in client.get("/me/").text
    [row] = open_sessions(kari.user)
    assert (row.method, row.level) == ("idporten", "idporten-loa-substantial")
    assert row.oidc_sid and row.id_token and row.id_token.count(".") == 2
    db.session.refresh(kari)
    assert str(kari.date_of_birth) == "1970-01-01"  # from the number, where the clinic had none


def test_only_pushed_requests_are_sent_and_a_plain_one_is_refused(
        client: Client, provider: RunningProvider, kari: PatientProfile) -> None:
    begun = client.get("/sign-in/idporten")
    sent = parse_qs(urlsplit(begun.headers["Location"]).query)
    assert set(sent) == {"client_id", "request_uri"}  # everything else went by PAR
    assert sent["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:")
    plain = requests.get(f"{provider.issuer}/auth", allow_redirects=False, timeout=10, params={
        "client_id": "folge-idporten", "response_type": "code", "scope": "openid",
        "redirect_uri": "http://localhost/sign-in/oidc/callback", "state": "x",
        "code_challenge": "a" * 43, "code_challenge_method": "S256"})
    assert "Pushed+Authorization+Request+must+be+used" in plain.headers.get("Location", "")


def test_an_unknown_number_gets_ask_your_clinic_and_no_account(
        client: Client, provider: RunningProvider, kari: PatientProfile) -> None:
    users = db.session.scalar(select(func.count()).select_from(User))
    page = client.get(through_provider(client, provider, account="unknown"))
    assert page.status_code == 200
    assert "We could not find you" in page.text and "Ask your clinic" in page.text
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert client.get("/me/").status_code in (302, 401)


@pytest.mark.parametrize("level", ["idporten-loa-high"])
def test_a_lower_level_than_required_is_refused(client: Client, provider: RunningProvider,
                                                kari: PatientProfile, level: str) -> None:
    refused = client.get(through_provider(client, provider, account="low"))
    assert refused.headers["Location"].endswith("/sign-in/idporten/problem/low_level")
    page = client.get(refused.headers["Location"])
    assert page.status_code == 400 and "higher security level" in page.text
    assert open_sessions(kari.user) == []
    # The level asked for is reached: in.
    assert client.get(through_provider(client, provider)).headers["Location"].endswith("/me/")
    [row] = open_sessions(kari.user)
    assert row.level == "idporten-loa-high"


def test_a_wrong_state_and_a_second_use_are_refused(client: Client, provider: RunningProvider,
                                                    kari: PatientProfile) -> None:
    callback = through_provider(client, provider)
    wrong = client.get(re.sub(r"state=[^&]+", "state=not-the-one", callback))
    assert wrong.headers["Location"].endswith("/problem/expired")
    # The browser's state was spent by the wrong one: the real callback is refused too.
    assert client.get(callback).headers["Location"].endswith("/problem/expired")
    assert open_sessions(kari.user) == []
    # A fresh start and a callback used twice: the second is refused.
    callback = through_provider(client, provider)
    assert client.get(callback).headers["Location"].endswith("/me/")
    client.submit("/sign-out", {}, page="/me/")
    assert client.get(callback).headers["Location"].endswith("/problem/expired")


def test_a_replayed_code_is_refused_by_the_provider(client: Client, provider: RunningProvider,
                                                    kari: PatientProfile) -> None:
    first = through_provider(client, provider)
    code = parse_qs(urlsplit(first).query)["code"][0]
    assert client.get(first).headers["Location"].endswith("/me/")
    client.submit("/sign-out", {}, page="/me/")
    second = through_provider(client, provider)
    replay = re.sub(r"code=[^&]+", f"code={code}", second)
    assert client.get(replay).headers["Location"].endswith("/problem/failed")


def test_a_wrong_nonce_is_refused(client: Client, provider: RunningProvider,
                                  kari: PatientProfile) -> None:
    callback = through_provider(client, provider)
    attempt = db.session.scalars(select(OidcAttempt).order_by(OidcAttempt.id.desc())).first()
    assert attempt is not None
    request = oidc._serializer.loads(attempt.request.encode())  # noqa: SLF001
    assert request.nonce
    attempt.request = oidc._serializer.dumps(  # noqa: SLF001
        attrs.evolve(request, nonce="another-nonce")).decode()
    db.session.commit()
    assert client.get(callback).headers["Location"].endswith("/problem/failed")
    assert open_sessions(kari.user) == []


def test_an_expired_id_token_is_refused(client: Client, provider: RunningProvider,
                                        kari: PatientProfile, monkeypatch: pytest.MonkeyPatch) -> None:
    import jwskate.jwt.signed as signed

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + timedelta(hours=3)  # the token's hour has passed

    callback = through_provider(client, provider)
    monkeypatch.setattr(signed, "datetime", Later)
    assert client.get(callback).headers["Location"].endswith("/problem/failed")
    assert open_sessions(kari.user) == []


def test_a_token_signed_by_another_key_is_refused(client: Client, provider: RunningProvider,
                                                  kari: PatientProfile, app: Any) -> None:
    callback = through_provider(client, provider)
    with app.test_request_context():
        oauth = oidc.client(oidc.settings())  # type: ignore[arg-type]
    # The same kid, another key: what a token from someone else looks like to Følge.
    other = JwkSet(keys=[Jwk.generate(alg="RS256", kid="provider-1").public_jwk()])
    for key, (when, cached) in list(oidc._clients.items()):  # noqa: SLF001
        if cached is oauth:
            oidc._clients[key] = (when, attrs.evolve(oauth, authorization_server_jwks=other))  # noqa: SLF001
    assert client.get(callback).headers["Location"].endswith("/problem/failed")
    assert open_sessions(kari.user) == []


def test_sign_out_ends_the_idporten_session_too(client: Client, provider: RunningProvider,
                                                kari: PatientProfile) -> None:
    client.get(through_provider(client, provider))
    out = client.submit("/sign-out", {}, page="/me/")
    target = out.headers["Location"]
    assert target.startswith(f"{provider.issuer}/session/end")
    query = parse_qs(urlsplit(target).query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/signed-out"]
    assert query["id_token_hint"][0].count(".") == 2
    assert open_sessions(kari.user) == []
    ended = db.session.scalars(select(UserSession).where(UserSession.user_id == kari.user_id)).one()
    assert ended.id_token is None  # forgotten with the session
    back = client.get("/signed-out")
    assert back.headers["Location"].endswith("/sign-in?signed_out=1")


def test_a_backchannel_logout_from_idporten_ends_the_session(
        client: Client, provider: RunningProvider, kari: PatientProfile) -> None:
    client.get(through_provider(client, provider))
    [row] = open_sessions(kari.user)

    def logout_token(key: Jwk, **changes: Any) -> str:
        claims = {"iss": provider.issuer, "aud": "folge-idporten", "iat": int(time.time()),
                  "jti": "x1", "sid": row.oidc_sid,
                  "events": {oidc.BACKCHANNEL_EVENT: {}}, **changes}
        return str(Jwt.sign(claims, key=key, alg="RS256"))

    forged = Jwk.generate(alg="RS256", kid="provider-1")
    for bad in (logout_token(forged), logout_token(provider.signing_key, aud="someone-else"),
                logout_token(provider.signing_key, nonce="n"), "not-a-token"):
        assert client.post("/sign-in/oidc/backchannel-logout",
                           data={"logout_token": bad}).status_code == 400
    assert len(open_sessions(kari.user)) == 1
    done = client.post("/sign-in/oidc/backchannel-logout",
                       data={"logout_token": logout_token(provider.signing_key)})
    assert done.status_code == 200
    assert open_sessions(kari.user) == []
    assert client.get("/me/").status_code in (302, 401)


def test_a_frontchannel_logout_ends_the_session(client: Client, provider: RunningProvider,
                                                kari: PatientProfile) -> None:
    client.get(through_provider(client, provider))
    [row] = open_sessions(kari.user)
    client.get(f"/sign-in/oidc/frontchannel-logout?iss=http://elsewhere&sid={row.oidc_sid}")
    assert len(open_sessions(kari.user)) == 1
    client.get(f"/sign-in/oidc/frontchannel-logout?iss={provider.issuer}&sid={row.oidc_sid}")
    assert open_sessions(kari.user) == []


def test_without_idporten_configured_the_pages_are_not_there(tmp_path: Path,
                                                             migrated_database: str) -> None:
    from tests.conftest import another_app

    with another_app(migrated_database, tmp_path) as other:
        plain = other.test_client()
        assert plain.get("/sign-in/idporten").status_code == 404
        assert "ID-porten" not in plain.get("/sign-in").text


def test_staff_register_the_number_validated_and_shown_masked(
        client: Client, provider: RunningProvider, world: World) -> None:
    from datetime import date

    patient = world.patient_x
    patient.date_of_birth = date(1970, 1, 1)
    db.session.commit()
    sign_in_as(client, world.coordinator_a)
    url = f"/staff/patients/{patient.id}/national-id"
    bad = client.submit(url, {"pid": "01017010171"})
    assert bad.status_code == 200 and "not a valid national identity number" in bad.text
    assert "01017010171" in bad.text  # what was typed is kept
    other_day = client.submit(url, {"pid": "15076510013"})
    assert "born 15.07.1965, not on the patient's date of birth" in html.unescape(other_day.text)
    saved = client.submit(url, {"pid": "010170 10170"})
    assert saved.status_code == 302
    db.session.refresh(patient)
    assert patient.user.pid_masked == "010170 *****"
    assert patient.user.pid_hash == pid.keyed_hash(KARI, PID_KEY)
    page = client.get(f"/staff/patients/{patient.id}").text
    assert "010170 *****" in page and KARI not in page
    # Another patient cannot get the same number.
    world.patient_y.date_of_birth = None
    db.session.commit()
    taken = client.submit(f"/staff/patients/{world.patient_y.id}/national-id", {"pid": KARI})
    assert "registered for another person" in taken.text
    # Staff of another clinic: 404.
    sign_in_as(client, world.nurse_b)
    assert client.get(url).status_code == 404


def sent_token(app: Any) -> str:
    body = app.extensions["folge_sms"].sent[-1].body
    return re.search(r"/invite/([A-Za-z0-9_-]+)", body).group(1)  # type: ignore[union-attr]


def test_a_relative_accepts_an_invitation_with_idporten(
        client: Client, provider: RunningProvider, world: World, app: Any) -> None:
    from server.models import RelativeAccess, RelativeScope, Role
    from server.services import relatives

    relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=[RelativeScope.APPOINTMENTS.value]))
    token = sent_token(app)
    page = client.get(f"/invite/{token}")
    assert f'href="/invite/{token}/idporten"' in page.text
    back = client.get(through_provider(client, provider, account="unknown",
                                       start=f"/invite/{token}/idporten"))
    assert back.headers["Location"].endswith("/relative/")
    rita = db.session.scalars(select(User).where(User.pid_hash == pid.keyed_hash(
        "15076510013", PID_KEY))).one()
    assert (rita.role, rita.display_name, rita.pid_masked) == (Role.RELATIVE, "Rita",
                                                               "150765 *****")
    access = db.session.scalars(select(RelativeAccess).where(
        RelativeAccess.relative_user_id == rita.id)).one()
    assert access.patient_id == world.patient_x.id
    [row] = open_sessions(rita)
    assert row.method == "idporten"
    # Next time, Rita signs in with ID-porten alone.
    client.submit("/sign-out", {}, page="/relative/")
    assert client.get(through_provider(client, provider, account="unknown")) \
        .headers["Location"].endswith("/relative/")
    # A patient's number cannot become a relative's account.
    relatives.invite(world.patient_y, relatives.InviteInput(
        "Kari", "venn", phone="+4790000002", scopes=[RelativeScope.APPOINTMENTS.value]))
    other = sent_token(app)
    world.patient_x.user.pid_hash = pid.keyed_hash(KARI, PID_KEY)
    db.session.commit()
    client.submit("/sign-out", {}, page="/relative/")
    refused = client.get(through_provider(client, provider, account="kari",
                                          start=f"/invite/{other}/idporten"))
    assert refused.headers["Location"].endswith(f"/invite/{other}")
    assert "another kind of account" in html.unescape(client.get(refused.headers["Location"]).text)


def test_keys_rotate_by_order_the_first_signs(client: Client, provider: RunningProvider,
                                              kari: PatientProfile, app: Any) -> None:
    """Both keys are registered at the provider while the new one is put first; a first key
    the provider does not know stops the sign-in, which shows that the first one signs."""
    from dataclasses import replace

    config = app.config["FOLGE"]

    def use(jwks: str) -> None:
        oidc.forget_clients()
        app.config["FOLGE"] = replace(config, idporten=replace(config.idporten, jwks=jwks))

    use(provider.client_jwks("folge-idporten", ("folge-2026-1",)))
    assert client.get(through_provider(client, provider)).headers["Location"].endswith("/me/")
    client.submit("/sign-out", {}, page="/me/")
    use(provider.client_jwks("folge-idporten", ("folge-2026-2", "folge-2026-1")))  # rotated
    assert client.get(through_provider(client, provider)).headers["Location"].endswith("/me/")
    client.submit("/sign-out", {}, page="/me/")
    use(provider.client_jwks("folge-idporten", ("folge-2026-1",),
                             extra=Jwk.generate(alg="ES256", kid="not-registered")))
    refused = client.get("/sign-in/idporten")
    assert refused.headers["Location"].endswith("/sign-in/idporten/problem/unavailable")


def test_a_clinics_level_sends_an_sms_session_to_a_step_up_and_back(
        client: Client, provider: RunningProvider, kari: PatientProfile, world: World) -> None:
    world.clinic_a.messages_level = "idporten-loa-substantial"
    db.session.commit()
    sign_in_as(client, kari.user)  # a code by SMS: level low
    assert client.get("/me/appointments/").status_code == 200  # not guarded
    guarded = client.get("/me/messages/new?topic=appointments")
    step_up = guarded.headers["Location"]
    assert "/sign-in/step-up?" in step_up and "next=/me/messages/new" in step_up
    page = client.get(step_up)
    assert "Sign in with BankID to go on" in page.text
    start = re.search(r'href="(/sign-in/step-up/start[^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    back = client.get(through_provider(client, provider, start=html.unescape(start)))
    assert back.headers["Location"] == "/me/messages/new?topic=appointments"  # the same page
    assert client.get("/me/messages/new?topic=appointments").status_code == 200
    [row] = open_sessions(kari.user)
    assert (row.method, row.level) == ("idporten", "idporten-loa-substantial")
    assert "with ID-porten (substantial level)" in client.get("/signed-in/").text


def test_a_step_up_as_someone_else_is_refused(client: Client, provider: RunningProvider,
                                             kari: PatientProfile, world: World) -> None:
    world.clinic_a.take_home_level = "idporten-loa-substantial"
    db.session.commit()
    sign_in_as(client, kari.user)
    assert "/sign-in/step-up" in client.get("/me/take-home/").headers["Location"]
    back = client.get(through_provider(client, provider, account="unknown",
                                       start="/sign-in/step-up/start?next=/me/take-home/"))
    assert back.headers["Location"].endswith("/problem/other_person")
    [row] = open_sessions(kari.user)
    assert row.level == "low"
    assert "/sign-in/step-up" in client.get("/me/take-home/").headers["Location"]


def test_a_clinic_admin_chooses_the_levels(client: Client, provider: RunningProvider,
                                           world: World, make: Any) -> None:
    from server.models import StaffRole

    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN)
    sign_in_as(client, admin)
    url = f"/staff/clinics/{world.clinic_a.id}/team-settings"
    assert "To read and write messages, patients sign in with" in client.get(url).text
    base = {"call_back_days": "1", "handover_escalation_days": "7"}
    bad = client.submit(url, {**base, "messages_level": "superhigh"})
    assert bad.status_code == 200
    db.session.refresh(world.clinic_a)
    assert world.clinic_a.messages_level == "low"
    client.submit(url, {**base, "messages_level": "idporten-loa-high",
                        "take_home_level": "idporten-loa-substantial"})
    db.session.refresh(world.clinic_a)
    assert (world.clinic_a.messages_level, world.clinic_a.take_home_level) == (
        "idporten-loa-high", "idporten-loa-substantial")
