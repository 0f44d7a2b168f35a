""""Download my information": everything Følge holds about a patient, as JSON and as a
readable PDF.

The JSON has every stored column of every row about the patient (machine-readable, for
another service or a lawyer); the PDF says the same in sentences, in the patient's
language. Left out, and said so in both: secrets that protect the account (hashes of
codes and invitation links, passkey keys), and anonymous feedback, which by design cannot
be traced to anyone. Each download is written to the access log, so the patient sees it
in "Who has seen my information" and a download on a phone someone else holds shows up.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF
from sqlalchemy import inspect, select

from server import labels
from server.care_team.models import TeamMember
from server.extensions import db
from server.locales import babel_locale
from server.messages.models import Conversation, ConversationMessage
from server.models import (
    AccessLogEntry,
    AccessTarget,
    Appointment,
    FeedbackResponse,
    PatientProfile,
    RelativeAccess,
    RelativeInvitation,
    RelativeObservation,
    TakeHomeRequest,
)
from server.models.base import utcnow
from server.notify.letter import FONT, clinic_document, latin1, small_print, write_sections
from server.plans.models import (
    AppointmentAgenda,
    CrisisPlanVersion,
    Goal,
    GoalNote,
    IpConsent,
    Measure,
)
from server.services.phone_numbers import display_mobile

#: Columns never given out: they protect the account, and mean nothing to a person.
_SECRET_COLUMNS = frozenset({"token_hash", "code_hash", "client_key", "public_key",
                             "sign_count", "password_hash"})


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any) -> dict[str, Any]:
    return {attr.key: _plain(getattr(obj, attr.key)) for attr in inspect(obj).mapper.column_attrs
            if attr.key not in _SECRET_COLUMNS}


@dataclass
class Export:
    patient: PatientProfile
    made_at: datetime
    rows: dict[str, list[Any]] = field(default_factory=dict)


def _of_patient(model: Any, patient_id: int, order: Any = None) -> list[Any]:
    return list(db.session.scalars(select(model).where(model.patient_id == patient_id)
                                   .order_by(order if order is not None else model.id)))


def collect(patient: PatientProfile) -> Export:
    """Every row about the patient, by kind, oldest first."""
    pid = patient.id
    conversations = _of_patient(Conversation, pid)
    ids = [c.id for c in conversations]
    rows: dict[str, list[Any]] = {
        "appointments": _of_patient(Appointment, pid, Appointment.starts_at),
        "take_home_requests": _of_patient(TakeHomeRequest, pid),
        "feedback": _of_patient(FeedbackResponse, pid),
        "relative_invitations": _of_patient(RelativeInvitation, pid),
        "relative_accesses": _of_patient(RelativeAccess, pid),
        "relative_observations": _of_patient(RelativeObservation, pid),
        "care_team": _of_patient(TeamMember, pid),
        "conversations": conversations,
        "messages": list(db.session.scalars(select(ConversationMessage).where(
            ConversationMessage.conversation_id.in_(ids)).order_by(ConversationMessage.id)))
        if ids else [],
        "crisis_plan_versions": _of_patient(CrisisPlanVersion, pid, CrisisPlanVersion.version),
        "before_appointments": _of_patient(AppointmentAgenda, pid),
        "goals": (goal_rows := _of_patient(Goal, pid, Goal.position)),
        "goal_measures": list(db.session.scalars(select(Measure).where(
            Measure.goal_id.in_([g.id for g in goal_rows])).order_by(Measure.id)))
        if goal_rows else [],
        "ip_consents": _of_patient(IpConsent, pid),
        "goal_notes": list(db.session.scalars(select(GoalNote).where(
            GoalNote.goal_id.in_([g.id for g in goal_rows])).order_by(GoalNote.id)))
        if goal_rows else [],
        "access_log": _of_patient(AccessLogEntry, pid),
    }
    return Export(patient, utcnow(), rows)


def log_download(patient: PatientProfile, kind: str) -> None:
    """Write the download to the patient's access log (the patient is the viewer). Commits."""
    db.session.add(AccessLogEntry(patient_id=patient.id, viewer_user_id=patient.user_id,
                                  viewer_role="patient", clinic_id=None,
                                  target=AccessTarget.EXPORT))
    db.session.commit()


def as_json(export: Export) -> bytes:
    patient = export.patient
    user = patient.user
    document = {
        "about": "Følge: everything stored about this patient. Left out: secrets that "
                 "protect the account (hashes of codes and links, passkey keys) and "
                 "anonymous feedback, which cannot be traced to anyone.",
        "made_at": export.made_at.isoformat(),
        "patient": {**_row(patient), "name": user.display_name, "phone": user.phone,
                    "language": user.language, "clinic": patient.clinic.name},
        **{kind: [_row(r) for r in rows] for kind, rows in export.rows.items()},
        "names": {str(u.id): u.display_name for u in _people(export)},
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def _people(export: Export) -> list[Any]:
    """Everyone a row points at (staff, relatives), so the JSON can name them."""
    from server.models import User

    ids: set[int] = set()
    for rows in export.rows.values():
        for r in rows:
            for key, value in _row(r).items():
                if isinstance(value, int) and (key.endswith("_by_id") or key in {
                        "viewer_user_id", "author_id", "relative_user_id", "user_id",
                        "assigned_to_id", "staff_user_id"}):
                    ids.add(value)
    return list(db.session.scalars(select(User).where(User.id.in_(ids)))) if ids else []


def _when(moment: datetime | None) -> str:
    from server.web import local_datetime

    return local_datetime(moment, "short") if moment else "-"


def _lines(export: Export) -> list[tuple[str, list[str]]]:
    """The readable sections: (heading, one line per row)."""
    rows = export.rows
    names = {u.id: u.display_name for u in _people(export)}

    def who(user_id: int | None) -> str:
        return names.get(user_id or 0, "-")

    sections = [
        (_("Appointments"), [
            _("%(when)s: %(service)s, %(place)s. Your answer: %(answer)s.",
              when=_when(a.starts_at), service=a.service_name, place=a.place_name or "-",
              answer=labels.ANSWERS[a.answer.value]) +
            (f" {a.answer_reason}" if a.answer_reason else "")
            for a in rows["appointments"]]),
        (_("Take-home requests and decisions"), [
            _("Sent %(when)s: %(status)s.", when=_when(r.created_at),
              status=labels.REQUEST_STATUSES[r.status.value]) +
            (" " + _("%(first)s to %(last)s.", first=r.first_day.isoformat(),
                     last=r.last_day.isoformat()) if r.first_day and r.last_day else "") +
            (" " + _("Decided by %(name)s: %(reason)s", name=who(r.decided_by_id),
                     reason=r.decision_reason) if r.decided_at else "")
            for r in rows["take_home_requests"]]),
        (_("Feedback"), [
            _("%(when)s: total %(total)s.", when=_when(f.created_at),
              total=f.total if f.total is not None else "-") +
            (f" {f.comment}" if f.comment else "")
            for f in rows["feedback"]]),
        (_("Relatives"), [
            _("%(name)s (%(relationship)s): %(scopes)s. From %(start)s%(end)s.",
              name=a.name, relationship=a.relationship_text,
              scopes=", ".join(str(labels.RELATIVE_SCOPES[s]) for s in a.scopes or []
                               if s in labels.RELATIVE_SCOPES) or "-",
              start=_when(a.starts_at),
              end=(", " + _("ended %(when)s", when=_when(a.revoked_at))) if a.revoked_at
              else "")
            for a in rows["relative_accesses"]]),
        (_("What relatives told the team"), [
            f"{_when(o.created_at)}: {o.text}" for o in rows["relative_observations"]]),
        (_("Messages"), [
            f"{_when(m.created_at)}, {who(m.author_id)}: {m.body}" for m in rows["messages"]]),
        (_("My crisis plan"), [
            _("Version %(n)d, saved %(when)s by %(who)s.", n=v.version, when=_when(v.saved_at),
              who=who(v.saved_by_id)) + " " + " ".join(
                  text for text in (v.content.get(k, "") for k in
                                    ("warning_signs", "self_help", "helpers", "meet",
                                     "naloxone")) if text) + "".join(
                  f" {c.get('name', '')} {c.get('phone', '')}."
                  for c in v.content.get("contacts", []))
            for v in rows["crisis_plan_versions"]]),
        (_("Before my appointments, and what we agreed"), [
            " ".join(filter(None, [
                ", ".join(str(labels.TALK_TOPICS.get(t, t)) for t in g.topics), g.text,
                (_("What we agreed:") + " " + "; ".join(g.agreed)) if g.agreed else ""]))
            for g in rows["before_appointments"]]),
        (_("My goals"), [
            f"{g.text} ({labels.GOAL_STATUSES.get(g.status, g.status)})"
            + (f" {g.status_reason}" if g.status_reason else "")
            + "".join(f" – {m.text}, {m.due_on.isoformat()}" for m in rows["goal_measures"]
                      if m.goal_id == g.id)
            for g in rows["goals"] if g.state == "active"]),
        (_("Who has seen my information"), [
            f"{_when(e.at)}: {who(e.viewer_user_id)}, "
            f"{labels.ACCESS_TARGETS[e.target]}" for e in rows["access_log"]]),
    ]
    return [(title, lines or [_("Nothing stored.")]) for title, lines in sections]


def as_pdf(export: Export) -> bytes:
    patient = export.patient
    with force_locale(babel_locale(patient.user.language)):
        title = _("Everything Følge holds about you")
        intro = _("%(name)s, %(number)s. Made %(when)s.", name=patient.display_name,
                  number=display_mobile(patient.user.phone or "") or "-",
                  when=_when(export.made_at))
        sections = _lines(export)
        footer = _("Not included: codes and secrets that protect your account, and "
                   "anonymous feedback, which cannot be traced to you.")
    pdf: FPDF = clinic_document(title, patient.clinic, export.made_at)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 6, latin1(intro), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    write_sections(pdf, sections)
    small_print(pdf, footer)
    return bytes(pdf.output())
