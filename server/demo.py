"""Demo data: two clinics, their staff and patients. Development only.

The sign-in details are listed in README.md. Nothing here is a real person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.extensions import db
from server.models import (
    Appointment,
    Channel,
    Clinic,
    FeedbackInvitation,
    FeedbackResponse,
    MeetingKind,
    MessagePurpose,
    PatientProfile,
    PeriodReason,
    PickupPlace,
    RelativeAccess,
    RelativeScope,
    RequestKind,
    Role,
    ServiceKind,
    StaffMembership,
    StaffRole,
    TakeHomeRules,
    TotpSecret,
    User,
)
from server.models.base import utcnow
from server.services.staff_auth import hash_password

#: Printed in the README for the demo; seed-demo refuses to run in production.
DEMO_PASSWORD = "demo-passord-2026"  # noqa: S105


@dataclass(frozen=True)
class DemoStaff:
    email: str
    name: str
    role: StaffRole
    totp_secret: str
    clinic: str


@dataclass(frozen=True)
class DemoPatient:
    name: str
    phone: str | None
    channels: tuple[Channel, ...]
    address: str
    clinic: str


MAIN = "Demo LAR-poliklinikk"
OTHER = "Demo Vestbyen poliklinikk"

CLINICS = {
    MAIN: ("Helse Demo HF", "Postboks 1, 0001 Demoby", "22 00 00 00"),
    OTHER: ("Helse Vestdemo HF", "Postboks 2, 5001 Vestbyen", "55 00 00 00"),
}

STAFF = (
    DemoStaff("lege@demo.folge.test", "Lege Lise Berg", StaffRole.DOCTOR,
              "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", MAIN),
    DemoStaff("koordinator@demo.folge.test", "Koordinator Kim Dahl", StaffRole.COORDINATOR,
              "KRUGS4ZANFZSAYJAORSXG5BAONSWG4TF", MAIN),
    DemoStaff("admin@demo.folge.test", "Leder Lena Aas", StaffRole.CLINIC_ADMIN,
              "ONSWG4TFOQ2HEZLTORSXG5BAMFXGIIDU", MAIN),
    DemoStaff("ansatt@vestbyen.folge.test", "Sykepleier Siri Vik", StaffRole.NURSE,
              "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U", OTHER),
    DemoStaff("lege2@demo.folge.test", "Lege Jonas Lund", StaffRole.DOCTOR,
              "NBSWY3DPFQQHO33SNRSCC3DJNZRWK3TU", MAIN),
    DemoStaff("lege@vestbyen.folge.test", "Lege Viktor Strand", StaffRole.DOCTOR,
              "MZXW6YTBOI2TSNBQGEZDGNBVGY3TQOJQ", OTHER),
    DemoStaff("koordinator@vestbyen.folge.test", "Koordinator Vera Lie", StaffRole.COORDINATOR,
              "KNSWG4TFORZXI2LOMVZWIZLMNRXXEIDB", OTHER),
)

PATIENTS = (
    DemoPatient("Kari Nordmann", "+4791234567", (Channel.PUSH, Channel.SMS, Channel.LETTER),
                "Storgata 1, 0155 Oslo", MAIN),
    DemoPatient("Ola Hansen", "+4792345678", (Channel.SMS, Channel.LETTER),
                "Kirkeveien 2, 0368 Oslo", MAIN),
    DemoPatient("Per Olsen", None, (Channel.LETTER,), "Postboks 77, 0102 Oslo", MAIN),
    DemoPatient("Anne Vik", "+4793456789", (Channel.SMS,), "Strandgaten 3, 5013 Bergen", OTHER),
)


#: (patient, days ahead, local time, service, service name, meeting, place, address, role, prepare)
APPOINTMENTS = (
    ("Kari Nordmann", 1, time(10, 0), ServiceKind.CLINIC, "Poliklinikken", MeetingKind.IN_PERSON,
     "Poliklinikken, 2. etasje", "Storgata 10, 0155 Oslo", "lege", "Ta med timeplanen din."),
    ("Kari Nordmann", 6, time(13, 30), ServiceKind.GP, "Legekontoret på Torget",
     MeetingKind.IN_PERSON, "Legekontoret", "Torget 1, 0150 Oslo", "fastlege", ""),
    ("Kari Nordmann", 9, time(9, 15), ServiceKind.MUNICIPALITY, "NAV Sentrum", MeetingKind.PHONE,
     "", "", "veileder", "Ha kontoutskriften klar."),
    ("Ola Hansen", 2, time(11, 0), ServiceKind.CLINIC, "Poliklinikken", MeetingKind.IN_PERSON,
     "Poliklinikken", "Storgata 10, 0155 Oslo", "sykepleier", ""),
    ("Per Olsen", 8, time(12, 0), ServiceKind.CLINIC, "Poliklinikken", MeetingKind.IN_PERSON,
     "Poliklinikken", "Storgata 10, 0155 Oslo", "sosionom", ""),
    ("Anne Vik", 3, time(14, 0), ServiceKind.PSYCHIATRY, "DPS Vest", MeetingKind.VIDEO,
     "", "", "psykolog", ""),
)


def seed_appointments() -> int:
    """Add the demo appointments (and plan their messages) unless any exist."""
    if db.session.scalar(select(Appointment.id).limit(1)) is not None:
        return 0
    from server.services import appointments
    from server.services.local_time import to_utc

    patients = {p.user.display_name: p for p in db.session.scalars(select(PatientProfile))}
    today = utcnow().astimezone(ZoneInfo("Europe/Oslo")).date()
    items = []
    for name, days, at, service, service_name, meeting, place, address, role, prepare in \
            APPOINTMENTS:
        patient = patients.get(name)
        if patient is None:
            continue
        items.append((patient, appointments.AppointmentInput(
            starts_at=to_utc(today + timedelta(days=days), at), duration_minutes=45,
            service=service, service_name=service_name, meeting=meeting, place_name=place,
            address=address, meet_role=role, meet_name="", prepare=prepare)))
    appointments.create_many(items, None)
    return len(items)


RULES_TEXT = (
    "Vi ser på hvor lenge du har vært stabil i behandlingen, hvordan det går nå, og om du "
    "har et trygt sted å oppbevare det du tar med deg.\n"
    "Ved reise prøver vi først å avtale henting på et apotek der du skal være."
)

#: (patient, place, place name, weekdays, days per pickup, date of birth)
PLANS = (
    ("Kari Nordmann", PickupPlace.PHARMACY, "Apotek Torget", [0, 2, 4], 2, date(1984, 3, 12)),
    ("Ola Hansen", PickupPlace.CLINIC, "Poliklinikken", [0, 1, 2, 3, 4], 1, date(1979, 11, 2)),
    ("Per Olsen", PickupPlace.HOME_SERVICE, "Hjemmetjenesten", [0, 3], 3, date(1968, 6, 30)),
)


def seed_take_home() -> int:
    """The main clinic's rules, pickup plans and two requests, unless rules exist."""
    from server.services import take_home

    if db.session.scalar(select(TakeHomeRules.clinic_id).limit(1)) is not None:
        return 0
    clinic = db.session.scalar(select(Clinic).where(Clinic.name == MAIN))
    admin = db.session.scalar(select(User).where(User.email == "admin@demo.folge.test"))
    doctor = db.session.scalar(select(User).where(User.email == "lege@demo.folge.test"))
    if clinic is None or admin is None or doctor is None:
        return 0
    take_home.save_rules(clinic, take_home.RulesInput(
        rules_text=RULES_TEXT, notice_days=14, usual_max_days=14,
        allowed_places=[PickupPlace.PHARMACY, PickupPlace.CLINIC, PickupPlace.HOME_SERVICE,
                        PickupPlace.TRAVEL_PHARMACY]), admin)
    patients = {p.user.display_name: p for p in db.session.scalars(select(PatientProfile))}
    for name, place, place_name, weekdays, days, born in PLANS:
        patient = patients[name]
        patient.date_of_birth = born
        take_home.save_plan(patient, take_home.PlanInput(place, place_name, weekdays, days),
                            doctor)
    today = take_home.today_for(clinic)
    ola = patients["Ola Hansen"]
    take_home.submit(ola, take_home.RequestInput(
        kind=RequestKind.PERIOD, client_key=take_home.new_client_key(),
        first_day=today + timedelta(days=20), last_day=today + timedelta(days=26),
        reason=PeriodReason.FAMILY, explanation="Jeg skal besøke søsteren min i Trondheim.",
        place=PickupPlace.TRAVEL_PHARMACY, place_name="Vitusapotek Trondheim"))
    kari = patients["Kari Nordmann"]
    asked, _ = take_home.submit(kari, take_home.RequestInput(
        kind=RequestKind.PERIOD, client_key=take_home.new_client_key(),
        first_day=today + timedelta(days=30), last_day=today + timedelta(days=37),
        reason=PeriodReason.HOLIDAY, place=PickupPlace.PHARMACY, place_name="Apotek Torget"))
    if asked is not None:
        take_home.decide(asked, take_home.DecisionInput(
            outcome=take_home.Outcome.APPROVE,
            reason="Du har vært stabil lenge, og du har et trygt sted å oppbevare det."), doctor)
    return 2


YOU_SAID_WE_DID = (
    "Dere sa at det var vanskelig å få time etter jobb. Nå har vi åpent til kl. 19 på "
    "tirsdager.\nDere ba om mer tid til å snakke. Samtalene er nå 45 minutter."
)


def seed_feedback() -> int:
    """Kari's answers over the last month (the last one raises an alert), an open
    invitation, and the main clinic's "You said, we did"."""
    from server.services import feedback, instruments

    if db.session.scalar(select(FeedbackResponse.id).limit(1)) is not None:
        return 0
    clinic = db.session.scalar(select(Clinic).where(Clinic.name == MAIN))
    admin = db.session.scalar(select(User).where(User.email == "admin@demo.folge.test"))
    kari = db.session.scalar(select(PatientProfile).join(User).where(
        User.display_name == "Kari Nordmann"))
    instrument = instruments.latest("how_are_things")
    if clinic is None or admin is None or kari is None or instrument is None:
        return 0
    feedback.save_settings(clinic, {}, YOU_SAID_WE_DID, admin)
    now = utcnow()
    for days_ago, score in ((30, 6), (20, 7), (10, 8), (2, 6)):
        feedback.submit(kari, feedback.Answer(
            instrument, {key: score for key in instrument.item_keys},
            comment="Bedre uke." if score == 8 else ""), now=now - timedelta(days=days_ago))
    db.session.add(FeedbackInvitation(
        patient_id=kari.id, clinic_id=clinic.id, instrument_key=feedback.INVITE_INSTRUMENT,
        created_at=now - timedelta(hours=2), expires_at=now + timedelta(days=7)))
    db.session.commit()
    return 4


def seed_relatives() -> int:
    """Rita, Kari's sister, sees Kari's appointments and may tell the care team what she sees."""
    from server.services import relatives

    if db.session.scalar(select(RelativeAccess.id).limit(1)) is not None:
        return 0
    kari = db.session.scalar(select(PatientProfile).join(User).where(
        User.display_name == "Kari Nordmann"))
    if kari is None:
        return 0
    rita = db.session.scalar(select(User).where(User.phone == "+4794567890"))
    if rita is None:
        rita = User(role=Role.RELATIVE, display_name="Rita Nordmann", phone="+4794567890",
                    phone_verified_at=utcnow())
        db.session.add(rita)
        db.session.commit()
    invitation = relatives.invite(kari, relatives.InviteInput(
        "Rita", "søster", phone="+4794567890",
        scopes=[RelativeScope.APPOINTMENTS.value, RelativeScope.REMINDERS.value,
                RelativeScope.OBSERVATIONS.value]))
    relatives.accept(invitation, rita)
    return 1


#: (service, organisation, name, role, phone, weekdays, opens, closes, answer days)
CONTACTS = (
    ("gp", "Legekontoret på Torget", "Nils Holm", "fastlege", "+4722112233",
     [0, 1, 2, 3, 4], time(8, 0), time(16, 0), 2),
    ("gp", "Legesenteret Majorstuen", "Eva Dahl", "fastlege", "+4722998877",
     [0, 1, 2, 3, 4], time(8, 0), time(15, 0), 2),
    ("municipality", "Hjemmetjenesten Sentrum", "Miriam Ali", "miljøarbeider", "+4722445566",
     [0, 1, 2, 3, 4, 5, 6], time(8, 0), time(20, 0), 0),
)

#: (patient, staff email or contact organisation, role shown, areas held)
TEAMS = {
    "Kari Nordmann": (
        ("koordinator@demo.folge.test", "koordinator", ("coordinator", "work_money")),
        ("lege@demo.folge.test", "lege", ("medication", "mental")),
        ("Legekontoret på Torget", "", ("somatic",)),
        ("Hjemmetjenesten Sentrum", "", ("housing", "individual_plan")),
    ),
    "Ola Hansen": (
        ("koordinator@demo.folge.test", "koordinator",
         ("coordinator", "mental", "work_money", "individual_plan")),
        ("lege@demo.folge.test", "lege", ("medication",)),
        ("lege2@demo.folge.test", "lege", ()),
        ("Legesenteret Majorstuen", "", ("somatic",)),
    ),
    "Per Olsen": (
        ("koordinator@demo.folge.test", "koordinator",
         ("coordinator", "mental", "housing", "work_money", "individual_plan")),
        ("lege@demo.folge.test", "lege", ("medication",)),
    ),
}


def seed_team() -> int:
    """The main clinic's contact settings and directory; Kari's full team, Ola's team with
    a gap (housing) and a handover waiting (medication, to Jonas Lund), Per's team."""
    from server.care_team import handovers, team
    from server.care_team.models import ExternalContact, TeamMember, TeamService

    if db.session.scalar(select(TeamMember.id).limit(1)) is not None:
        return 0
    clinic = db.session.scalar(select(Clinic).where(Clinic.name == MAIN))
    coordinator = db.session.scalar(select(User).where(
        User.email == "koordinator@demo.folge.test"))
    if clinic is None or coordinator is None:
        return 0
    clinic.opens_at, clinic.closes_at, clinic.answers_within_days = time(8, 0), time(15, 30), 1
    clinic.crisis_line_name, clinic.crisis_line_phone = "Mental Helse hjelpetelefon", "116123"
    directory = {}
    for service, organisation, name, role, phone, days, opens, closes, answers in CONTACTS:
        directory[organisation] = ExternalContact(
            clinic_id=clinic.id, service=TeamService(service), organisation=organisation,
            name=name, role=role, phone=phone, open_days=days, opens_at=opens,
            closes_at=closes, answers_within_days=answers)
        db.session.add(directory[organisation])
    db.session.commit()
    patients = {p.user.display_name: p for p in db.session.scalars(select(PatientProfile))}
    for patient_name, members in TEAMS.items():
        patient = patients.get(patient_name)
        if patient is None:
            continue
        for who, role, held in members:
            if who in directory:
                member = team.add_external_member(patient, directory[who], role, coordinator)
            else:
                staff = db.session.scalar(select(User).where(User.email == who))
                if staff is None:
                    continue
                member = team.add_staff_member(patient, staff, role, coordinator)
            for area_key in held:
                team.fill_gap(patient, area_key, member, coordinator)
    ola = patients.get("Ola Hansen")
    jonas = db.session.scalar(select(User).where(User.email == "lege2@demo.folge.test"))
    lise = db.session.scalar(select(User).where(User.email == "lege@demo.folge.test"))
    if ola is not None and jonas is not None and lise is not None:
        receiver = next(m for m in team.active_members(ola) if m.staff_user_id == jonas.id)
        handovers.propose(ola, "medication", receiver, lise,
                          note="Jeg går ned i stilling fra nyttår. Jonas tar over.")
    return len(TEAMS)


#: The main clinic's quick answers: (title, text).
QUICK_ANSWERS = (
    ("Vi ringer deg", "Takk for meldingen. Vi ringer deg i løpet av dagen, fra 22 00 00 00."),
    ("Søknad om hjemmebruk", "Send en søknad under «Henting og hjemmebruk» i Følge, så ser "
     "legen på den. Ring oss gjerne hvis du vil ha hjelp."),
    ("Ny time", "Vi finner en ny time til deg og sender den i Følge."),
)


def seed_messages() -> int:
    """Kari's answered question, Ola's SMS that has waited too long, a letter to Per, and
    the main clinic's quick answers."""
    from server.messages import conversations
    from server.messages.models import Conversation, ConversationMessage, Topic
    from server.services import sms_inbound

    if db.session.scalar(select(Conversation.id).limit(1)) is not None:
        return 0
    clinic = db.session.scalar(select(Clinic).where(Clinic.name == MAIN))
    patients = {p.user.display_name: p for p in db.session.scalars(select(PatientProfile))}
    staff = {u.email: u for u in db.session.scalars(select(User).where(User.role == Role.STAFF))}
    kim, lise = staff.get("koordinator@demo.folge.test"), staff.get("lege@demo.folge.test")
    if clinic is None or kim is None or lise is None:
        return 0
    for title, text in QUICK_ANSWERS:
        conversations.add_quick_answer(clinic.id, title, text, staff.get(
            "admin@demo.folge.test") or kim)
    made = 0
    kari, ola, per = (patients.get(n) for n in ("Kari Nordmann", "Ola Hansen", "Per Olsen"))
    if kari is not None:
        asked = conversations.start(
            kari, "Jeg skal besøke søsteren min i Bergen 12.–16. desember. Hva må jeg gjøre "
            "for å få det til?", Topic.TAKE_HOME, "demo-kari-1")
        conversations.mark_read_by_team(asked.conversation, kim)
        answered = conversations.answer(asked.conversation, kim, QUICK_ANSWERS[1][1])
        # Asked two days ago, read three hours later, answered the next morning.
        asked.created_at -= timedelta(days=2)
        asked.read_at = asked.created_at + timedelta(hours=3)
        answered.created_at -= timedelta(days=1, hours=6)
        asked.conversation.created_at = asked.created_at
        asked.conversation.last_message_at = answered.created_at
        made += 1
    if ola is not None and ola.user.phone:
        sms_inbound.receive("SM" + "d" * 32, ola.user.phone,
                            "Bussen kom ikke i dag. Rekker ikke timen, kan noen ringe meg "
                            "etter kl 14?")
        message = db.session.scalar(select(ConversationMessage).where(
            ConversationMessage.author_id == ola.user_id))
        if message is not None:  # it has waited four days: past the clinic's answer time
            message.created_at -= timedelta(days=4)
            message.conversation.waiting_since = message.created_at
            message.conversation.created_at = message.created_at
            made += 1
    if per is not None:
        conversations.start_by_staff(
            per, lise, "Hei Per. Vi vil gjerne snakke med deg før neste time. Ring oss på "
            "22 00 00 00 når det passer deg, mellom 08.00 og 15.30.", Topic.APPOINTMENTS)
        made += 1
    db.session.commit()
    return made


def _seed_staff(clinics: dict[str, Clinic]) -> None:
    """The demo staff that are missing (caller commits)."""
    password_hash = hash_password(DEMO_PASSWORD)
    for staff in STAFF:
        if staff.clinic not in clinics or db.session.scalar(
                select(User.id).where(User.email == staff.email)) is not None:
            continue
        user = User(role=Role.STAFF, display_name=staff.name, email=staff.email,
                    password_hash=password_hash)
        db.session.add(user)
        db.session.flush()
        db.session.add(TotpSecret(user_id=user.id, secret=staff.totp_secret))
        db.session.add(StaffMembership(user_id=user.id, clinic=clinics[staff.clinic],
                                       role=staff.role))


#: Past answers of the main clinic's patients (days ago, score, comment, anonymous), so the
#: clinic's feedback dashboard shows figures (each month from five answers up).
PAST_FEEDBACK = (
    (40, 7, "", False), (42, 6, "Fint å bli spurt.", False), (44, 5, "", False),
    (46, 8, "", False), (48, 7, "", False), (50, 6, "", False),
    (41, 4, "Lang ventetid i resepsjonen.", True), (43, 7, "Hyggelige folk.", True),
    (45, 6, "", True), (47, 5, "Vanskelig å nå dere på telefon.", True), (49, 8, "", True),
    (70, 6, "", False), (72, 7, "", False), (74, 5, "", False), (76, 6, "", False),
    (78, 7, "", False),
)
#: Past take-home requests (days ago, patient, outcome, days), all decided by the doctor, so
#: the figures page shows numbers (each group from five requests up).
PAST_REQUESTS = (
    (20, "Ola Hansen", "approved", 5), (35, "Per Olsen", "approved", 7),
    (50, "Kari Nordmann", "partly_approved", 10), (65, "Ola Hansen", "declined", 14),
    (80, "Per Olsen", "approved", 4), (95, "Kari Nordmann", "approved", 6),
    (110, "Ola Hansen", "declined", 21),
)


def seed_figures() -> int:
    """Answers and decisions from the last months, for the clinic's dashboards, and a
    check-in invitation after Kari's appointment yesterday. Once."""
    from server.models import (
        AppointmentStatus,
        Attendance,
        InvitationStatus,
        RequestStatus,
        TakeHomeRequest,
    )
    from server.services import feedback, instruments, take_home

    clinic = db.session.scalar(select(Clinic).where(Clinic.name == MAIN))
    doctor = db.session.scalar(select(User).where(User.email == "lege@demo.folge.test"))
    instrument = instruments.latest("how_are_things")
    if clinic is None or doctor is None or instrument is None:
        return 0
    marker = "Demo: tidligere søknad"
    if db.session.scalar(select(TakeHomeRequest.id).where(
            TakeHomeRequest.note == marker).limit(1)) is not None:
        return 0
    patients = {p.user.display_name: p for p in db.session.scalars(
        select(PatientProfile).where(PatientProfile.clinic_id == clinic.id))}
    names = sorted(patients)
    now = utcnow()
    for i, (days_ago, score, comment, anonymous) in enumerate(PAST_FEEDBACK):
        patient = patients[names[i % len(names)]]
        feedback.submit(patient, feedback.Answer(
            instrument, {key: score for key in instrument.item_keys}, comment=comment,
            anonymous=anonymous), now=now - timedelta(days=days_ago))
    for i, days_ago in enumerate((39, 41, 43, 45, 47, 49, 71, 73, 75, 77, 79)):
        db.session.add(FeedbackInvitation(
            patient_id=patients[names[i % len(names)]].id, clinic_id=clinic.id,
            instrument_key=feedback.INVITE_INSTRUMENT,
            status=InvitationStatus.ANSWERED if i % 4 else InvitationStatus.OPEN,
            created_at=now - timedelta(days=days_ago),
            expires_at=now - timedelta(days=days_ago - 7)))
    today = take_home.today_for(clinic)
    for days_ago, name, outcome, days in PAST_REQUESTS:
        asked_at = now - timedelta(days=days_ago)
        first = today - timedelta(days=days_ago - 15)
        status = RequestStatus(outcome)
        granted = status is not RequestStatus.DECLINED
        last_approved = first + timedelta(days=(days // 2 if outcome == "partly_approved"
                                                else days) - 1)
        db.session.add(TakeHomeRequest(
            patient_id=patients[name].id, clinic_id=clinic.id, kind=RequestKind.PERIOD,
            status=status, client_key=take_home.new_client_key(), first_day=first,
            last_day=first + timedelta(days=days - 1), reason=PeriodReason.HOLIDAY,
            place=PickupPlace.PHARMACY, place_name="Apotek Torget", note=marker,
            over_usual_max=days > 14, created_at=asked_at,
            decided_at=asked_at + timedelta(days=2), decided_by_id=doctor.id,
            decision_reason="Vurdert ut fra stabilitet og oppbevaring." if granted else
            "For lang periode nå. Vi ser på det igjen om en måned.",
            approved_first_day=first if granted else None,
            approved_last_day=last_approved if granted else None,
            approved_place=PickupPlace.PHARMACY if granted else None,
            decision_seen_at=asked_at + timedelta(days=3)))
    # Kari met the clinic yesterday; the check-in asks about that meeting.
    kari = patients.get("Kari Nordmann")
    if kari is not None:
        met = Appointment(
            patient_id=kari.id, clinic_id=clinic.id, service=ServiceKind.CLINIC,
            service_name="Poliklinikken", starts_at=now - timedelta(days=1), duration_minutes=30,
            meeting=MeetingKind.IN_PERSON, place_name="Poliklinikken", address=clinic.address,
            meet_role="lege", meet_name="Lise Berg", status=AppointmentStatus.SCHEDULED,
            attendance=Attendance.ATTENDED)
        db.session.add(met)
        db.session.flush()
        invitation = db.session.scalar(select(FeedbackInvitation).where(
            FeedbackInvitation.patient_id == kari.id,
            FeedbackInvitation.status == InvitationStatus.OPEN,
            FeedbackInvitation.appointment_id.is_(None),
            FeedbackInvitation.expires_at > now))
        if invitation is not None:
            invitation.appointment_id = met.id
    db.session.commit()
    return len(PAST_FEEDBACK) + len(PAST_REQUESTS)


#: Today's clinic day for the staff's Today page: (patient, minutes from now, service name,
#: who). Those already started can be marked attended or not attended at once.
CLINIC_DAY = (
    ("Kari Nordmann", -90, "Samtale med lege", "lege"),
    ("Ola Hansen", -30, "Utlevering og samtale", "sykepleier"),
    ("Per Olsen", 120, "Oppfølging", "sosionom"),
)


def seed_clinic_day() -> int:
    """Appointments earlier today and later today at the main clinic, once (marked by their
    service names). Times that would fall outside today in Norway are kept inside it."""
    from server.models import MessagePurpose
    from server.services import appointments, outbox
    from server.services.local_time import to_utc

    if db.session.scalar(select(Appointment.id).where(
            Appointment.service_name == CLINIC_DAY[0][2]).limit(1)) is not None:
        return 0
    patients = {p.user.display_name: p for p in db.session.scalars(select(PatientProfile))}
    now = utcnow()
    today = now.astimezone(ZoneInfo("Europe/Oslo")).date()
    first, last = to_utc(today, time(0, 0)), to_utc(today, time(23, 30))
    made = 0
    for name, minutes, service_name, role in CLINIC_DAY:
        patient = patients.get(name)
        if patient is None:
            continue
        wanted = min(max(now + timedelta(minutes=minutes), first), last)
        appointment = appointments.create(patient, appointments.AppointmentInput(
            starts_at=max(wanted, now + timedelta(minutes=5)), duration_minutes=30,
            service=ServiceKind.CLINIC, service_name=service_name,
            meeting=MeetingKind.IN_PERSON, place_name="Poliklinikken",
            address="Storgata 10, 0155 Oslo", meet_role=role, meet_name="", prepare=""), None)
        if wanted <= now:  # already started: no reminders left to send
            appointment.starts_at = wanted
            outbox.cancel_pending(appointment, tuple(MessagePurpose))
        made += 1
    db.session.commit()
    return made


def _kari_and_coordinator() -> tuple[PatientProfile | None, User | None]:
    """The demo's main patient and her coordinator (None when not seeded)."""
    kari = db.session.scalar(select(PatientProfile).join(User).where(
        User.display_name == "Kari Nordmann"))
    coordinator = db.session.scalar(select(User).where(
        User.email == "koordinator@demo.folge.test"))
    return kari, coordinator


def seed_crisis_plan() -> int:
    """Kari's crisis plan, written with her coordinator and changed once by herself, so the
    demo shows two versions. Once."""
    from server.plans import crisis
    from server.plans.models import CrisisPlanVersion

    if db.session.scalar(select(CrisisPlanVersion.id).limit(1)) is not None:
        return 0
    kari, coordinator = _kari_and_coordinator()
    if kari is None or coordinator is None:
        return 0
    texts = {
        "warning_signs": "Jeg slutter å svare på telefonen og blir liggende.\n"
                         "Jeg sover dårlig flere netter på rad.",
        "self_help": "Gå en tur rundt vannet. Ringe søsteren min.",
        "helpers": "Kafeen på Torget. Treningen på onsdager.",
        "meet": "Snakk rolig til meg. Ikke ring moren min.",
        "naloxone": "I den øverste skuffen på badet, og en i vesken.",
    }
    contacts = [crisis.Contact("Søster Rita", "945 67 890")]
    first = crisis.save(kari, crisis.PlanInput(texts={**texts, "meet": "Snakk rolig til meg."},
                                               contacts=contacts), coordinator, None)
    crisis.save(kari, crisis.PlanInput(texts=texts, contacts=contacts), kari.user,
                first.version)
    # Before her next clinic appointment (tomorrow): what she wants to talk about.
    from server.plans import agenda

    upcoming = db.session.scalars(select(Appointment).where(
        Appointment.patient_id == kari.id, Appointment.service == ServiceKind.CLINIC,
        Appointment.starts_at > utcnow()).order_by(Appointment.starts_at)).first()
    if upcoming is not None and agenda.may_ask(upcoming):
        agenda.save_wishes(upcoming, ["take_home", "control"],
                           "Jeg vil gjerne snakke om å ta blodprøve i stedet for urinprøve.")
    _seed_goals(kari, coordinator)
    return 2


def _seed_goals(kari: PatientProfile, coordinator: User) -> None:
    """Kari's two goals, each with a measure by a member of her team."""
    from server.care_team import team
    from server.plans import goals
    from server.services.local_time import oslo_today

    members = {m.staff_user_id or -m.id: m for m in team.active_members(kari)}
    coordinator_member = members.get(coordinator.id)
    housing = goals.add(kari, "Få en egen leilighet før sommeren", kari.user)
    work = goals.add(kari, "Begynne i arbeidstrening to dager i uka", kari.user)
    goals.set_status(work, "going_well", "Har vært på to samtaler med NAV.", kari.user)
    if coordinator_member is not None:
        goals.add_measure(housing, "Søke kommunal bolig sammen med Kari", coordinator_member,
                          oslo_today() + timedelta(days=21), coordinator, oslo_today())
        goals.add_measure(work, "Avtale møte med NAV-veilederen", coordinator_member,
                          oslo_today() + timedelta(days=10), coordinator, oslo_today())
    goals.add_note(housing, "Vi har fylt ut søknaden, mangler bare legeerklæringen.",
                   coordinator)


def seed_meetings() -> int:
    """Kari's responsibility group: a meeting three weeks ago with minutes linked to her
    goals, and the next one in five weeks; Rita may read the minutes. Once."""
    from server.care_team import team
    from server.plans import agenda, goals, meetings
    from server.services import appointments, outbox

    if db.session.scalar(select(Appointment.id).where(
            Appointment.is_team_meeting.is_(True)).limit(1)) is not None:
        return 0
    kari, coordinator = _kari_and_coordinator()
    if kari is None or coordinator is None:
        return 0
    members = team.active_members(kari)
    if not members:
        return 0
    tz = ZoneInfo("Europe/Oslo")
    made = []
    for weeks in (-3, 5):
        day = (utcnow().astimezone(tz) + timedelta(weeks=weeks)).date()
        starts = datetime.combine(day, time(13, 0), tz).astimezone(UTC)
        meeting = appointments.create(kari, appointments.AppointmentInput(
            starts_at=max(starts, utcnow() + timedelta(hours=1)), duration_minutes=60,
            service=ServiceKind.CLINIC, service_name="Poliklinikken",
            meeting=MeetingKind.IN_PERSON, place_name="Møterom 2, 1. etasje",
            address=kari.clinic.address, is_team_meeting=True), coordinator)
        if starts <= utcnow():  # the past meeting: no reminders left to send
            meeting.starts_at = starts
            outbox.cancel_pending(meeting, tuple(MessagePurpose))
            db.session.commit()
        meetings.set_participants(meeting, [m.id for m in members], coordinator)
        made.append(meeting)
    past, upcoming = made
    found = goals.of_patient(kari)
    housing = next((g for g in found if "leilighet" in g.text), None)
    work = next((g for g in found if "arbeidstrening" in g.text), None)
    rows = [("Kari har søkt kommunal bolig. Koordinatoren følger opp svaret.",
             f"measure:{housing.measures[0].id}" if housing and housing.measures else ""),
            ("Arbeidstreningen starter etter nyttår, to dager i uka.",
             f"goal:{work.id}" if work else ""),
            ("Fastlegen tar blodprøver ved neste kontroll.", ""),
            ("Neste møte er om fem uker. Kari setter opp det hun vil ta opp.", "")]
    meetings.save_minutes(past, rows, coordinator)  # not read yet: "ready" on Kari's home
    agenda.save_wishes(upcoming, ["housing"], "Hvordan det går med boligsøknaden.\n"
                       "Om Rita kan være med på neste møte.")
    rita = db.session.scalars(select(RelativeAccess).where(
        RelativeAccess.patient_id == kari.id)).first()
    if rita is not None and RelativeScope.MEETING_NOTES.value not in (rita.scopes or []):
        rita.scopes = [*(rita.scopes or []), RelativeScope.MEETING_NOTES.value]
    db.session.commit()
    return len(made)


def seed_record_system() -> int:
    """The main clinic's record system, registered for the FHIR interface (the demo has no
    token issuer, so it cannot call; `flask fhir-client` is how a real one is added), and its
    reads of Kari's appointments yesterday, so her "who has seen my information" shows how
    such a read reads. Once."""
    from server.fhir import clients
    from server.fhir.models import SystemClient
    from server.models import AccessLogEntry, AccessTarget

    if db.session.scalar(select(SystemClient.id).limit(1)) is not None:
        return 0
    kari, _ = _kari_and_coordinator()
    if kari is None:
        return 0
    system = clients.register(kari.clinic, "demo-epj", "DIPS Arena")
    yesterday = utcnow() - timedelta(days=1)
    for minutes in (0, 1):
        db.session.add(AccessLogEntry(
            patient_id=kari.id, viewer_user_id=system.user_id, viewer_role="record_system",
            clinic_id=kari.clinic_id, target=AccessTarget.APPOINTMENT,
            at=yesterday.replace(hour=7, minute=30 + minutes, second=0, microsecond=0)))
    db.session.commit()
    return 1


def seed() -> bool:
    """Create the demo data unless it is there already. Returns True when created."""
    if db.session.scalar(select(Clinic).where(Clinic.name == MAIN)) is not None:
        # A database seeded by an older version: add what later versions brought.
        _seed_staff({c.name: c for c in db.session.scalars(select(Clinic))})
        db.session.commit()
        seed_appointments()
        seed_take_home()
        seed_feedback()
        seed_relatives()
        seed_team()
        seed_messages()
        seed_figures()
        seed_clinic_day()
        seed_crisis_plan()
        seed_meetings()
        seed_record_system()
        return False
    clinics: dict[str, Clinic] = {}
    for name, (trust, address, phone) in CLINICS.items():
        clinics[name] = Clinic(name=name, health_trust=trust, address=address, phone=phone,
                               timezone="Europe/Oslo")
        db.session.add(clinics[name])
    _seed_staff(clinics)
    for patient in PATIENTS:
        user = User(role=Role.PATIENT, display_name=patient.name, phone=patient.phone,
                    phone_verified_at=utcnow() if patient.phone else None)
        db.session.add(user)
        db.session.add(PatientProfile(user=user, clinic=clinics[patient.clinic],
                                      contact_channels=[c.value for c in patient.channels],
                                      postal_address=patient.address))
    db.session.commit()
    seed_appointments()
    seed_take_home()
    seed_feedback()
    seed_relatives()
    seed_team()
    seed_messages()
    seed_figures()
    seed_clinic_day()
    seed_crisis_plan()
    seed_meetings()
    seed_record_system()
    return True
