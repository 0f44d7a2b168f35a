"""Variation figures on a fixed data set with values worked out by hand: per clinic, by
decider (clinic admins only), all clinics side by side; small groups withheld, requests
outside the period left out, no patient data anywhere."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from itertools import count

import pytest

from server.extensions import db
from server.models import Clinic, PatientProfile, RequestStatus, StaffRole, User
from server.services import take_home, take_home_figures
from server.services.take_home import DecisionInput, Outcome
from server.services.take_home_figures import Figures
from tests.conftest import Client, Factory, sign_in_as

FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)
PERIOD = "first=2026-03-01&last=2026-03-31"
PAGE = "/staff/take-home/figures"
PATIENT_NAMES = ("Xena Hemmelig", "Yngve Hemmelig", "Berit Hemmelig")


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


#: Clinic A ("Klinikk Alfa"): (outcome or None for undecided, decider, created_at, decided_at).
#: "Ås" is the doctor with five decisions in the period, "Lund" the one with one.
#: Seven requests are made in March 2026 (Oslo time):
IN_PERIOD_A = [
    (Outcome.APPROVE, "Ås", utc(3, 2, 8), utc(3, 3, 8)),       # 1.00 day
    (Outcome.APPROVE, "Ås", utc(3, 5, 10), utc(3, 7, 10)),     # 2.00 days
    (Outcome.APPROVE, "Ås", utc(3, 10, 12), utc(3, 10, 18)),   # 0.25 day
    (Outcome.PARTLY, "Ås", utc(3, 12, 9), utc(3, 16, 9)),      # 4.00 days
    (Outcome.PARTLY, "Ås", utc(3, 15, 8), utc(3, 18, 8)),      # 3.00 days
    # 21:30 UTC on 31 March is 23:30 in Oslo (summer time since 29 March): in the period,
    # though decided in April.
    (Outcome.DECLINE, "Lund", utc(3, 31, 21, 30), utc(4, 6, 21, 30)),  # 6.00 days
    # 23:30 UTC on 28 February is 00:30 on 1 March in Oslo (winter time): in the period.
    (None, "", utc(2, 28, 23, 30), None),
]
#: Four more of clinic A outside the period, all declined by Lund: counted by mistake they
#: would give Lund five decisions (and a row) and change every figure of the clinic.
OUTSIDE_A = [
    (Outcome.DECLINE, "Lund", utc(2, 28, 22, 30), utc(3, 2, 8)),  # 23:30 on 28 Feb in Oslo
    (Outcome.DECLINE, "Lund", utc(3, 31, 22, 30), utc(4, 2, 8)),  # 00:30 on 1 April in Oslo
    (Outcome.DECLINE, "Lund", utc(1, 15, 10), utc(1, 20, 10)),
    (Outcome.DECLINE, "Lund", utc(4, 10, 10), utc(4, 12, 10)),
]
#: Clinic A by hand:
#:   requests in the period: 7; decided: 6 (the undecided one is not decided)
#:   approved 3/6 = 0.5 -> "50 %"; partly 2/6 = 0.333... -> "33 %"; declined 1/6 = 0.1666...
#:   -> "17 %"
#:   days to decision, sorted: 0.25, 1, 2, 3, 4, 6 -> median (2 + 3) / 2 = 2.5 -> "2.5"
#: Ås by hand (the five decisions above):
#:   approved 3/5 = 0.6 -> "60 %"; partly 2/5 = 0.4 -> "40 %"; declined 0/5 -> "0 %"
#:   days sorted: 0.25, 1, 2, 3, 4 -> median 2 -> "2.0"
#: Lund: one decision in the period (< MIN_GROUP = 5) -> no row.
EXPECTED_A = Figures("Klinikk Alfa", requests=7, decided=6, approved_share=3 / 6,
                     partly_share=2 / 6, declined_share=1 / 6, median_days=2.5)
EXPECTED_AAS = Figures("Doktor Ås", requests=5, decided=5, approved_share=3 / 5,
                       partly_share=2 / 5, declined_share=0.0, median_days=2.0)
CELLS_A = ["7", "6", "50 %", "33 %", "17 %", "2.5"]
CELLS_AAS = ["5", "5", "60 %", "40 %", "0 %", "2.0"]

#: Clinic B ("Klinikk Beta"): four in the period (fewer than five: everything withheld) and
#: one made on 1 April (Oslo), which would make five if it were counted.
IN_PERIOD_B = [(Outcome.APPROVE, "Berg", utc(3, d, 9), utc(3, d + 1, 9)) for d in (3, 4, 5, 6)]
OUTSIDE_B = [(Outcome.APPROVE, "Berg", utc(4, 1, 9), utc(4, 2, 9))]
HIDDEN_B = Figures("Klinikk Beta", None, None, None, None, None, None)
CELLS_HIDDEN = ["–"] * 6

class Data:
    def __init__(self, make: Factory) -> None:
        self.starts = count(10, 4)  # non-overlapping two-day periods, 10, 14, 18 ... days ahead
        self.clinic_a = make.clinic("Klinikk Alfa")
        self.clinic_b = make.clinic("Klinikk Beta")
        self.clinic_c = make.clinic("Klinikk Gamma")  # no requests at all
        self.xena = make.patient(self.clinic_a, PATIENT_NAMES[0])
        self.yngve = make.patient(self.clinic_a, PATIENT_NAMES[1])
        self.berit = make.patient(self.clinic_b, PATIENT_NAMES[2])
        self.doctors = {
            "Ås": make.staff(self.clinic_a, StaffRole.DOCTOR, name="Doktor Ås"),
            "Lund": make.staff(self.clinic_a, StaffRole.DOCTOR, name="Doktor Lund"),
            "Berg": make.staff(self.clinic_b, StaffRole.DOCTOR, name="Doktor Berg"),
        }
        self.admin_a = make.staff(self.clinic_a, StaffRole.CLINIC_ADMIN, name="Admin Alfa")
        for n, row in enumerate(IN_PERIOD_A + OUTSIDE_A):
            self.add(make, self.xena if n % 2 else self.yngve, *row)
        for row in IN_PERIOD_B + OUTSIDE_B:
            self.add(make, self.berit, *row)

    def add(self, make: Factory, patient: PatientProfile, outcome: str | None, decider: str,
            created_at: datetime, decided_at: datetime | None) -> None:
        request = make.take_home(patient, starts_in_days=next(self.starts), days=2)
        if outcome is not None:
            take_home.decide(request, DecisionInput(outcome=outcome, reason="Vurdert.",
                                                    next_time="Spør igjen senere."),
                             self.doctors[decider])
        request.created_at = created_at
        request.decided_at = decided_at
        db.session.commit()


@pytest.fixture
def data(make: Factory) -> Data:
    return Data(make)


def close(actual: Figures, expected: Figures) -> None:
    assert actual.label == expected.label
    assert (actual.requests, actual.decided) == (expected.requests, expected.decided)
    for name in ("approved_share", "partly_share", "declined_share", "median_days"):
        got, want = getattr(actual, name), getattr(expected, name)
        if want is None:
            assert got is None, name
        else:
            assert got == pytest.approx(want), name


def no_patient_data(figures: Figures) -> None:
    for name in PATIENT_NAMES:
        assert name not in repr(figures)


# --- the service ---------------------------------------------------------------------------

def test_data_set_is_as_planned(data: Data) -> None:
    statuses = sorted(r.status.value for r in take_home.requests_for(data.xena)
                      + take_home.requests_for(data.yngve))
    assert statuses.count(RequestStatus.DECLINED.value) == 5
    assert statuses.count(RequestStatus.APPROVED.value) == 3
    assert statuses.count(RequestStatus.PARTLY_APPROVED.value) == 2
    assert len(statuses) == 11


def test_clinic_figures(data: Data) -> None:
    figures = take_home_figures.for_clinic(data.clinic_a, FIRST, LAST)
    close(figures, EXPECTED_A)
    assert not figures.hidden
    no_patient_data(figures)


def test_by_decider_is_hidden_while_one_decider_has_too_few(data: Data) -> None:
    # Lund has one decision in March: showing Ås alone would give Lund's away
    # (the clinic's total minus Ås), so the whole split is withheld.
    assert take_home_figures.by_decider(data.clinic_a, FIRST, LAST) == []
    # Over the spring Lund has five as well, and both rows are shown.
    spring = take_home_figures.by_decider(data.clinic_a, date(2026, 1, 1), date(2026, 4, 30))
    assert [r.label for r in spring] == ["Doktor Lund", "Doktor Ås"]
    close(spring[1], EXPECTED_AAS)
    # The other clinic's decisions never count for this clinic.
    assert take_home_figures.by_decider(data.clinic_b, FIRST, LAST) == []


def test_a_small_clinic_is_withheld(data: Data) -> None:
    figures = take_home_figures.for_clinic(data.clinic_b, FIRST, LAST)
    close(figures, HIDDEN_B)
    assert figures.hidden


def test_comparison_lists_every_clinic_by_name_without_patient_data(data: Data) -> None:
    rows = take_home_figures.comparison(FIRST, LAST)
    assert [r.label for r in rows] == ["Klinikk Alfa", "Klinikk Beta", "Klinikk Gamma"]
    close(rows[0], EXPECTED_A)
    close(rows[1], HIDDEN_B)
    assert rows[2].hidden
    for row in rows:
        no_patient_data(row)


def test_the_period_is_whole_months_in_oslo_time(data: Data) -> None:
    # Any day of March means all of March, so two periods a day apart never differ by one
    # request. 1 March in Oslo starts at 23:00 UTC on 28 February: the request made at
    # 23:30 UTC counts, the one made at 22:30 UTC does not.
    one_day = take_home_figures._made_in([data.clinic_a.id], date(2026, 3, 1), date(2026, 3, 1))
    march = take_home_figures._made_in([data.clinic_a.id], FIRST, LAST)
    assert sorted(r.id for r in one_day) == sorted(r.id for r in march)
    created = {r.created_at for r in march}
    assert utc(2, 28, 23, 30) in created and utc(2, 28, 22, 30) not in created
    # 31 March in Oslo, summer time: 21:30 UTC is 23:30 that day, 22:30 UTC the next day.
    assert utc(3, 31, 21, 30) in created and utc(3, 31, 22, 30) not in created
    close(take_home_figures.for_clinic(data.clinic_a, date(2026, 3, 31), date(2026, 3, 31)),
          EXPECTED_A)
    # February plus March plus April hold all eleven of clinic A.
    whole = take_home_figures.for_clinic(data.clinic_a, date(2026, 1, 1), date(2026, 4, 30))
    assert (whole.requests, whole.decided) == (11, 10)
    assert whole.declined_share == pytest.approx(5 / 10)


# --- the page ------------------------------------------------------------------------------

ROW = re.compile(r'<tr>\s*<th scope="row">(.*?)</th>(.*?)</tr>', re.DOTALL)
CELL = re.compile(r"<td>(.*?)</td>", re.DOTALL)


def rows(html: str, label: str) -> list[list[str]]:
    """The cells of every table row headed ``label``."""
    return [[c.strip() for c in CELL.findall(body)]
            for head, body in ROW.findall(html) if head.strip() == label]


def test_a_doctor_sees_the_clinic_and_all_clinics_but_not_by_decider(
        data: Data, client: Client) -> None:
    sign_in_as(client, data.doctors["Lund"])
    response = client.get(f"{PAGE}?{PERIOD}")
    assert response.status_code == 200
    html = response.text
    assert "Requests made from 1 March 2026 to 31 March 2026." in html
    # Own table and the comparison.
    assert rows(html, "Klinikk Alfa") == [CELLS_A, CELLS_A]
    assert rows(html, "Klinikk Beta") == [CELLS_HIDDEN]
    assert rows(html, "Klinikk Gamma") == [CELLS_HIDDEN]
    assert "By decider" not in html
    assert "Doktor Ås" not in html
    for name in PATIENT_NAMES:
        assert name not in html


def test_a_clinic_admin_also_sees_the_deciders(data: Data, client: Client) -> None:
    sign_in_as(client, data.admin_a)
    html = client.get(f"{PAGE}?{PERIOD}").text
    assert "By decider (only clinic administrators see this)" in html
    # In March Lund has one decision: no split at all, not even Ås.
    assert "No decider has made enough decisions in this period to show." in html
    assert "Doktor Ås" not in html and "Doktor Lund" not in html
    assert rows(html, "Klinikk Alfa") == [CELLS_A, CELLS_A]
    assert rows(html, "Klinikk Beta") == [CELLS_HIDDEN]
    spring = client.get(f"{PAGE}?first=2026-01-01&last=2026-04-30").text
    assert rows(spring, "Doktor Ås") == [CELLS_AAS]
    assert len(rows(spring, "Doktor Lund")) == 1
    assert "Doktor Berg" not in spring
    for name in PATIENT_NAMES:
        assert name not in html and name not in spring


def test_an_admin_of_a_clinic_without_enough_decisions_is_told_so(
        data: Data, make: Factory, client: Client) -> None:
    sign_in_as(client, make.staff(data.clinic_b, StaffRole.CLINIC_ADMIN))
    html = client.get(f"{PAGE}?{PERIOD}").text
    assert "No decider has made enough decisions in this period to show." in html
    assert "Doktor Berg" not in html
    assert rows(html, "Klinikk Beta") == [CELLS_HIDDEN, CELLS_HIDDEN]
    assert rows(html, "Klinikk Alfa") == [CELLS_A]


def test_figures_in_bokmal(data: Data, new_client) -> None:  # type: ignore[no-untyped-def]
    browser = new_client("nb")
    sign_in_as(browser, data.admin_a)
    html = browser.get(f"{PAGE}?{PERIOD}").text
    assert rows(html, "Klinikk Alfa")[0] == ["7", "6", "50 %", "33 %", "17 %", "2,5"]
    spring = browser.get(f"{PAGE}?first=2026-01-01&last=2026-04-30").text
    assert rows(spring, "Doktor Ås") == [["5", "5", "60 %", "40 %", "0 %", "2,0"]]


def test_the_dates_may_come_in_either_order(data: Data, client: Client) -> None:
    sign_in_as(client, data.doctors["Ås"])
    html = client.get(f"{PAGE}?first=2026-03-31&last=2026-03-01").text
    assert rows(html, "Klinikk Alfa") == [CELLS_A, CELLS_A]


@pytest.mark.parametrize("query", [
    "first=nonsense", "last=nonsense", "first=nonsense&last=2026-03-31",
    "first=2026-02-30&last=2026-13-01", "first=&last=", "first=0001-01-01&last=0001-01-02",
    "last=0001-01-01", "first=9999-12-31", "first=2026-03-01&last=9999-12-31",
])
def test_invalid_dates_do_not_break_the_page(data: Data, client: Client, query: str) -> None:
    sign_in_as(client, data.doctors["Ås"])
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 200
    assert "Klinikk Alfa" in response.text


def test_other_roles_cannot_open_the_figures(data: Data, client: Client) -> None:
    sign_in_as(client, data.xena.user)
    assert client.get(f"{PAGE}?{PERIOD}").status_code == 404


def test_a_clinic_name_that_looks_like_markup_is_escaped(
        data: Data, client: Client) -> None:
    data.clinic_c.name = "<b>Klinikk</b>"
    db.session.commit()
    sign_in_as(client, data.doctors["Ås"])
    html = client.get(f"{PAGE}?{PERIOD}").text
    assert "<b>Klinikk</b>" not in html
    assert "&lt;b&gt;Klinikk&lt;/b&gt;" in html


def test_figures_carry_no_user_objects(data: Data) -> None:
    for figures in [take_home_figures.for_clinic(data.clinic_a, FIRST, LAST),
                    *take_home_figures.by_decider(data.clinic_a, FIRST, LAST),
                    *take_home_figures.comparison(FIRST, LAST)]:
        for value in vars(figures).values():
            assert not isinstance(value, (User, PatientProfile, Clinic))
