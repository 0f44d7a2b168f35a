"""Hostile input never makes a server error: every form of every role, property-based
(security review item 8; the standard "every form is covered by the hostile-input test").

The forms are not listed by hand. Each role's client opens every page it may
open, every ``<form>`` on those pages is read (its action, method, fields and
their offered choices), and Hypothesis posts generated values to each: the
choices the page offers mixed with hostile text (NUL and other control
characters, Unicode digits, 5,000-digit numbers, CR/LF, surrogates of
redirects, huge and empty values), random Unicode and random files. A new
form on any page joins the walk by itself. The JSON endpoints get generated
JSON, and the SMS webhooks get generated parameters with a valid signature.

Runs on SQLite and on PostgreSQL (which refuses NUL in text) as part of the
suite; ``FOLGE_FUZZ_EXAMPLES`` sets examples per form (default 20) and
``FOLGE_FUZZ_RANDOM=1`` draws new examples each run instead of the same ones.
The number of requests is printed at the end of the run.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from twilio.request_validator import RequestValidator
from werkzeug.exceptions import HTTPException

from server.extensions import db
from server.models import RelativeAccess, StaffRole, User
from server.services import relatives
from server.web import JSON_ENDPOINTS
from tests.conftest import (
    FUZZ_FIGURES,
    PASSWORD,
    CapturingSms,
    Client,
    Factory,
    World,
    endpoint_urls,
    sign_in_as,
)

EXAMPLES = int(os.environ.get("FOLGE_FUZZ_EXAMPLES", "20"))
RANDOM = os.environ.get("FOLGE_FUZZ_RANDOM") == "1"
TOKEN = "fuzz-twilio-token"

HOSTILE = [
    "", " ", "   ", "\t", "\x00", "a\x00b", "\x00" * 3, "\x1b[31m", "\x7f", "\r\n",
    "a\r\nSet-Cookie: x=1", "²", "٣", "７", "10²", "9" * 5000, "-1", "0", "-0", "+1",
    "2147483648", "9223372036854775808", "-9223372036854775809", "1e309", "NaN", "0x10",
    "3.5", "1,5", "//evil.example", "/%09/evil.example", "/\t/evil.example", "\\\\evil",
    "javascript:alert(1)", "<script>alert(1)</script>", "' OR '1'='1", "%00", "%s%s%n",
    "{{7*7}}", "${7*7}", "../../etc/passwd", "😀" * 300, "x" * 20_000, "\u202e", "\ufeff",
    "ﷺ", "Ǆ", "İ", "ß", "2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31",
    "31.12.9999", "1.1.0001", "24:00", "25:61", "-1:00", "true", "on", "[]", "{}", "null",
    "+4791234567", "912 34 567", "+47 9", "00000000", "a@b", "@", "  a@b.no  ",
]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(HOSTILE[:30]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["endpoint", "keys", "p256dh", "auth", "id", "rawId",
                                       "type", "response", "clientDataJSON", "x"]),
                      children, max_size=5),
    max_leaves=12)


twilio_like = st.dictionaries(
    st.sampled_from(["MessageSid", "From", "Body", "To", "AccountSid", "NumMedia",
                     "MessageStatus", "SmsSid", "ErrorCode", "Unknown", "MediaUrl0"]),
    st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30),
              st.sampled_from(["SM" + "a" * 32, "+4791234567", "JA", "STOPP", "8 7 9 8",
                               "delivered", "failed"])),
    max_size=6)


@dataclass
class FormField:
    name: str
    kind: str  # input type, "select", "textarea"
    choices: set[str] = field(default_factory=set)
    multiple: bool = False


@dataclass
class PageForm:
    method: str
    action: str
    fields: dict[str, FormField] = field(default_factory=dict)
    files: bool = False


class FormReader(HTMLParser):
    """Every <form> of a page, with its fields and the values the page offers."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[PageForm] = []
        self.links: list[str] = []
        self._form: PageForm | None = None
        self._select: FormField | None = None

    def _field(self, name: str, kind: str) -> FormField:
        assert self._form is not None
        found = self._form.fields.get(name)
        if found is None:
            found = self._form.fields[name] = FormField(name, kind)
        elif kind in ("checkbox",) or found.kind == "checkbox":
            found.multiple = True
        return found

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "option" and self._select is not None:
            self._select.choices.add(a.get("value", ""))
        if tag == "form":
            action = urlsplit(a.get("action") or self.page_url).path or self.page_url
            self._form = PageForm(a.get("method", "get").upper(), action,
                                  files="multipart" in a.get("enctype", ""))
            self.forms.append(self._form)
        elif self._form is None or not a.get("name") or a["name"] == "csrf_token":
            return
        elif tag == "input":
            kind = a.get("type", "text")
            item = self._field(a["name"], kind)
            if a.get("value"):
                item.choices.add(a["value"])
            if kind == "file":
                self._form.files = True
        elif tag == "textarea":
            self._field(a["name"], "textarea")
        elif tag == "select":
            self._select = self._field(a["name"], "select")
            self._select.multiple = "multiple" in a
        elif tag == "button" and a.get("value"):
            self._field(a["name"], "button").choices.add(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


#: Links not followed: files, and the sign-out (it is a form, fuzzed last).
_NOT_FOLLOWED = re.compile(r"\.(pdf|ics|csv|png|js|css|webmanifest)$|^/(static|icons)/")


def _endpoint(client: Client, form: PageForm) -> str:
    """The endpoint a form posts to: forms of the same endpoint (the cancel button of each
    appointment) are one form for the walk."""
    adapter = client.application.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(form.action, method=form.method)
    except HTTPException:
        return form.action
    return str(endpoint)


def read_forms(client: Client, start: list[str], limit: int = 400) -> dict[tuple[str, str], PageForm]:
    """Every form on the pages reachable from ``start`` by this client's links (same site,
    at most ``limit`` pages), one per (method, endpoint)."""
    found: dict[tuple[str, str], PageForm] = {}
    queue, seen = list(start), set(start)
    while queue and len(seen) <= limit:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        reader = FormReader(url)
        reader.feed(response.text)
        for href in reader.links:
            parts = urlsplit(href)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if not parts.scheme and not parts.netloc and path.startswith("/") and \
                    not _NOT_FOLLOWED.search(parts.path) and path not in seen:
                seen.add(path)
                queue.append(path)
        for form in reader.forms:
            known = found.setdefault((form.method, _endpoint(client, form)), form)
            if known is not form:
                for name, item in form.fields.items():
                    known.fields.setdefault(name, item).choices |= item.choices
    return found


#: Values a person would type, by input type, so that generated forms also get past
#: validation and reach the services with one or two hostile fields among good ones.
PLAUSIBLE: dict[str, list[str]] = {
    "date": ["2027-03-01", "2027-03-05", "01.03.2027", "2026-12-24"],
    "time": ["10:00", "13:30", "08:15"],
    "number": ["5", "14", "30", "1"],
    "tel": ["+4741234567", "412 34 567", "91234567"],
    "email": ["mona@example.no"],
    "text": ["Reise til Bergen", "Apotek Torget", "mor", "Mona Mor", "Test"],
    "search": ["Xena", "912", "Pasient"],
    "textarea": ["Jeg skal besøke familien.", "Hei", "Alt er bra."],
}


def plausible(item: FormField) -> st.SearchStrategy[Any]:
    """A value the page itself would send (an offered choice, or typical typing)."""
    if item.kind == "file":
        rows = [f"patient,date,time,service,service_name\n{n},2027-03-01,10:00,gp,Lege\n"
                for n in range(1, 4)]
        return st.sampled_from(rows).map(lambda t: (io.BytesIO(t.encode()), "a.csv"))
    values = sorted(item.choices) or PLAUSIBLE.get(item.kind, PLAUSIBLE["text"])
    one = st.sampled_from(values)
    return st.lists(one, max_size=3, unique=True) if item.multiple else one


def hostile(item: FormField) -> st.SearchStrategy[Any]:
    """Something no page sends: hostile text, random Unicode, random bytes for files."""
    if item.kind == "file":
        return st.builds(lambda data: (io.BytesIO(data), "fuzz.csv"),
                         st.one_of(st.binary(max_size=400),
                                   st.text(max_size=400).map(lambda t: t.encode())))
    one = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
    return st.lists(one, max_size=3) if item.multiple else one


@st.composite
def form_values(draw: Any, form: PageForm) -> dict[str, Any]:
    """Every field with a plausible value, then up to three of them hostile or left out."""
    names = sorted(form.fields)
    data = {name: draw(plausible(form.fields[name])) for name in names}
    if names:
        for name in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
            if draw(st.booleans()):
                data[name] = draw(hostile(form.fields[name]))
            else:
                data.pop(name)
    return data


#: Posted last, because they end what the other forms need (sessions, accesses, accounts).
_ENDING = re.compile(r"/(leave|revoke|disable|sign-out|end|stop)\b")


@dataclass
class Role:
    name: str
    sign_in: Callable[[Client], None]


def _prepare(client: Client, role: Role) -> None:
    """Undo what earlier forms ended, and sign in again."""
    db.session.execute(update(User).values(disabled_at=None))
    db.session.execute(update(RelativeAccess).values(revoked_at=None))
    db.session.commit()
    role.sign_in(client)


@dataclass
class Tally:
    requests: int = 0
    errors: int = 0

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.errors += other.errors


def _settings(factor: int = 1) -> settings:
    return settings(max_examples=EXAMPLES * factor, deadline=None, database=None,
                    derandomize=not RANDOM, suppress_health_check=list(HealthCheck))


#: Each field in turn gets each of these while the others stay plausible: the kinds of
#: value behind the review's server errors, tried on every field of every form.
ONE_BAD_FIELD = ["   ", "\x00", "²", "9" * 5000, "x" * 5000, "-1", "not-an-offered-value"]


def _first_plausible(form: PageForm) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, item in form.fields.items():
        if item.kind == "file":
            data[name] = (io.BytesIO(b"patient,date\n"), "a.csv")
        else:
            value = (sorted(item.choices) or PLAUSIBLE.get(item.kind, PLAUSIBLE["text"]))[0]
            data[name] = [value] if item.multiple else value
    return data


def fuzz_form(client: Client, role: str, form: PageForm, token: str) -> Tally:
    """Post one bad field at a time, then Hypothesis' generated values, to one form; fails
    (with Hypothesis' smallest example) on a 5xx."""
    tally = Tally()

    def send(data: dict[str, Any]) -> None:
        tally.requests += 1
        if form.method == "GET":
            response = client.get(form.action, query_string=data)
        else:
            response = client.post(form.action, data={"csrf_token": token, **data},
                                   content_type="multipart/form-data" if form.files else None)
        if response.status_code >= 500:
            tally.errors += 1
        assert response.status_code < 500, (role, form.method, form.action, data)

    for name, item in form.fields.items():
        if item.kind == "file":
            continue
        for bad in ONE_BAD_FIELD:
            send({**_first_plausible(form), name: bad})

    @_settings()
    @given(data=form_values(form))
    def post(data: dict[str, Any]) -> None:
        send(data)

    post()
    return tally


def fuzz_json(client: Client, url: str, token: str) -> int:
    """Post generated JSON to one endpoint; returns the number of requests."""
    sent = 0

    @_settings(3)
    @given(body=json_values)
    def post(body: Any) -> None:
        nonlocal sent
        sent += 1
        response = client.post(url, json=body, headers={"X-CSRFToken": token})
        assert response.status_code < 500, (url, body)

    post()
    return sent


def fuzz_webhook(client: Client, path: str) -> int:
    """Post generated, correctly signed parameters to one webhook; returns the request count."""
    sent = 0

    @_settings(6)
    @given(params=twilio_like)
    def post(params: dict[str, str]) -> None:
        nonlocal sent
        sent += 1
        signature = RequestValidator(TOKEN).compute_signature("http://localhost" + path, params)
        response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code < 500, (path, params)

    post()
    return sent


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    # Deeper coverage: no rate limit stops the walk early (429 is not what is tested here).
    return {"ratelimit_enabled": False, "twilio_auth_token": TOKEN}


def test_no_form_of_any_role_answers_hostile_input_with_a_server_error(
        app: Flask, world: World, things: dict[str, Any], make: Factory,
        new_client: Callable[..., Client], sms: CapturingSms) -> None:
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN, name="Leder A")
    make.take_home(world.patient_x, starts_in_days=45)  # undecided: its decision form is shown
    invitation = relatives.invite(world.patient_y, relatives.InviteInput(
        "Mona", "mor", phone="+4741112222"))
    link = next(m.body for m in reversed(sms.sent) if "/invite/" in m.body)
    invite_path = urlsplit(re.search(r"https?://\S+", link).group()).path  # type: ignore[union-attr]
    assert invitation.id

    def anonymous(client: Client) -> None:
        client.submit("/sign-in", {"phone": world.patient_x.user.phone or ""})

    def staff_half_way(client: Client) -> None:
        client.submit("/staff/sign-in", {"email": world.doctor_a.email or "",
                                         "password": PASSWORD})

    roles = [Role("anonymous", anonymous), Role("staff, password given", staff_half_way)]
    for name, user in (("patient", world.patient_x.user), ("relative", world.relative),
                       ("doctor", world.doctor_a), ("coordinator", world.coordinator_a),
                       ("clinic admin", admin)):
        roles.append(Role(name, lambda c, u=user: sign_in_as(c, u)))

    get_urls = [u for _e, m, u in endpoint_urls(app, things) if m == "GET"]
    get_urls += [invite_path, "/sign-in/code", "/staff/sign-in/code"]
    tally = Tally()
    forms_seen = 0
    for role in roles:
        client = new_client()
        role.sign_in(client)
        forms = read_forms(client, get_urls)
        ordered = sorted(forms.values(), key=lambda f: bool(_ENDING.search(f.action)))
        for form in ordered:
            forms_seen += 1
            _prepare(client, role)
            tally.add(fuzz_form(client, role.name, form, client.csrf_token("/")))
    FUZZ_FIGURES.append(f"hostile forms: {tally.requests} requests to {forms_seen} forms of "
                        f"{len(roles)} roles, {tally.errors} server errors")
    assert forms_seen >= 40, forms_seen
    assert tally.errors == 0


def test_no_json_endpoint_answers_generated_json_with_a_server_error(
        app: Flask, world: World, things: dict[str, Any],
        new_client: Callable[..., Client]) -> None:
    urls = {e: u for e, m, u in endpoint_urls(app, things) if e in JSON_ENDPOINTS}
    assert set(urls) == set(JSON_ENDPOINTS)
    requests = 0
    for user in (None, world.patient_x.user, world.relative):
        client = new_client()
        if user is not None:
            sign_in_as(client, user)
        token = client.csrf_token("/")
        for endpoint, url in urls.items():
            if user is not None and endpoint == "account.passkey_add":
                # A challenge first, so the finishing endpoint gets past "start again".
                client.post(url + "/options", headers={"X-CSRFToken": token})
            requests += fuzz_json(client, url, token)
    FUZZ_FIGURES.append(f"hostile JSON: {requests} requests to {len(urls)} endpoints, "
                        "0 server errors")


def test_signed_webhooks_never_answer_generated_parameters_with_a_server_error(
        client: Client, world: World) -> None:
    requests = sum(fuzz_webhook(client, path)
                   for path in ("/webhooks/sms/inbound", "/webhooks/sms/status"))
    FUZZ_FIGURES.append(f"hostile webhooks: {requests} signed requests, 0 server errors")
