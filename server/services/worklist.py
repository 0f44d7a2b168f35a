"""The clinic's worklist: filters, sorting, assignment, done with a note, and each item's
history.

Filters come from the URL (so a view can be bookmarked and sent to a colleague); a value that
is not understood is dropped and named, never an error (``parse_filters``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import BindParameter, ColumnElement, Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from server.extensions import db
from server.models import (
    PatientProfile,
    StaffMembership,
    User,
    WorkEventKind,
    WorkItem,
    WorkItemEvent,
    WorkKind,
    WorkStatus,
)
from server.models.base import utcnow
from server.numbers import row_id
from server.services.errors import DomainError

#: Items shown on one page; the page says when there are more and how to narrow them down.
PAGE_SIZE = 100
#: Pages beyond this are not offered (narrow the list with the filters instead).
MAX_PAGE = 1000
#: "Older than" choices, in days.
AGES = (1, 3, 7, 30)
SORTS = ("oldest", "due")
#: Items marked done at once, at most.
BULK_MAX = 100


class WorkError(DomainError):
    """A worklist change that cannot be made."""


@dataclass(frozen=True)
class Filters:
    kind: WorkKind | None = None
    #: "" anyone, "me", "none" (not taken yet) or a colleague's user id.
    assignee: str = ""
    patient_id: int | None = None
    #: Only items older than this many days.
    age: int | None = None
    status: WorkStatus = WorkStatus.OPEN
    sort: str = "oldest"
    group: bool = False
    #: Which page of PAGE_SIZE items (1 is the first).
    page: int = 1

    def args(self, **changes: object) -> dict[str, str]:
        """The filters as URL arguments (defaults left out), with ``changes`` applied."""
        f = replace(self, **changes)  # type: ignore[arg-type]
        out = {"kind": f.kind.value if f.kind else "", "assignee": f.assignee,
               "patient": str(f.patient_id or ""), "age": str(f.age or ""),
               "status": "" if f.status is WorkStatus.OPEN else f.status.value,
               "sort": "" if f.sort == "oldest" else f.sort, "group": "patient" if f.group else "",
               "page": str(f.page) if f.page > 1 else ""}
        return {k: v for k, v in out.items() if v}

    @property
    def narrowed(self) -> bool:
        return bool(self.kind or self.assignee or self.patient_id or self.age
                    or self.status is not WorkStatus.OPEN or self.page > 1)


def parse_filters(args: Mapping[str, str], colleague_ids: set[int]) -> tuple[Filters, list[str]]:
    """Filters from URL arguments, and the names of those that were not understood."""
    bad: list[str] = []
    values: dict[str, object] = {}

    def take(name: str, read: object) -> None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return
        value = read(raw)  # type: ignore[operator]
        if value is None:
            bad.append(name)
        else:
            values[name] = value

    take("kind", lambda raw: next((k for k in WorkKind if k.value == raw), None))
    take("assignee", lambda raw: raw if raw in ("me", "none") or (
        row_id(raw) in colleague_ids) else None)
    take("patient", row_id)
    take("age", lambda raw: days if (days := row_id(raw)) in AGES else None)
    take("status", lambda raw: next((s for s in WorkStatus if s.value == raw), None))
    take("sort", lambda raw: raw if raw in SORTS else None)
    take("group", lambda raw: True if raw == "patient" else None)
    take("page", lambda raw: number if (number := row_id(raw)) is not None
         and number <= MAX_PAGE else None)
    filters = Filters(
        kind=values.get("kind"), assignee=str(values.get("assignee", "")),  # type: ignore[arg-type]
        patient_id=values.get("patient"), age=values.get("age"),  # type: ignore[arg-type]
        status=values.get("status", WorkStatus.OPEN),  # type: ignore[arg-type]
        sort=str(values.get("sort", "oldest")), group=bool(values.get("group", False)),
        page=int(values.get("page", 1)))  # type: ignore[call-overload]
    return filters, bad


def _query(clinic_ids: list[int], filters: Filters, me_id: int | None) -> Select[tuple[WorkItem]]:
    query = select(WorkItem).where(WorkItem.clinic_id.in_(clinic_ids),
                                   WorkItem.status == filters.status)
    if filters.kind is not None:
        query = query.where(WorkItem.kind == filters.kind)
    if filters.assignee == "me":
        query = query.where(WorkItem.assigned_to_id == me_id)
    elif filters.assignee == "none":
        query = query.where(WorkItem.assigned_to_id.is_(None))
    elif filters.assignee:
        query = query.where(WorkItem.assigned_to_id == int(filters.assignee))
    if filters.patient_id is not None:
        query = query.where(WorkItem.patient_id == filters.patient_id)
    if filters.age is not None:
        query = query.where(WorkItem.created_at <= utcnow() - timedelta(days=filters.age))
    return query


def find(clinic_ids: list[int], filters: Filters, me: User,
         limit: int = PAGE_SIZE) -> tuple[list[WorkItem], int]:
    """The items of these clinics that match, in the chosen order, and how many match in all.
    Two queries whatever the number of items (patients, appointments and assignees come
    along)."""
    query = _query(clinic_ids, filters, me.id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = ((WorkItem.due_at, WorkItem.id) if filters.sort == "due"
             else (WorkItem.created_at, WorkItem.id))
    if filters.status is WorkStatus.DONE:
        order = (WorkItem.done_at.desc(), WorkItem.id.desc())  # the latest done first
    items = list(db.session.scalars(
        query.options(joinedload(WorkItem.patient).joinedload(PatientProfile.user),
                      joinedload(WorkItem.appointment), joinedload(WorkItem.assigned_to),
                      joinedload(WorkItem.done_by))
        .order_by(*order).offset((filters.page - 1) * limit).limit(limit)))
    return items, total


def open_count_query(clinic_ids: list[int] | BindParameter[list[int]],
                     *conditions: ColumnElement[bool]) -> Select[tuple[int]]:
    """How many items of these clinics are open (and meet ``conditions``), as a query that
    Today puts together with its other counts into one."""
    return select(func.count()).select_from(WorkItem).where(
        WorkItem.clinic_id.in_(clinic_ids), WorkItem.status == WorkStatus.OPEN, *conditions)


def mine_count(clinic_ids: list[int], me: User) -> int:
    return db.session.scalar(open_count_query(clinic_ids, WorkItem.assigned_to_id == me.id)) or 0


def by_patient(items: list[WorkItem]) -> list[tuple[PatientProfile, list[WorkItem]]]:
    """Items grouped by patient, each group where its first item stood."""
    groups: dict[int, tuple[PatientProfile, list[WorkItem]]] = {}
    for item in items:
        groups.setdefault(item.patient_id, (item.patient, []))[1].append(item)
    return list(groups.values())


def for_appointment(appointment_id: int) -> list[WorkItem]:
    return list(db.session.scalars(
        select(WorkItem).where(WorkItem.appointment_id == appointment_id)
        .order_by(WorkItem.created_at)
    ))


def open_for_patient(patient: PatientProfile, limit: int = 20) -> list[WorkItem]:
    """The patient's open items, oldest first (the patient overview)."""
    return list(db.session.scalars(
        select(WorkItem).where(WorkItem.patient_id == patient.id,
                               WorkItem.clinic_id == patient.clinic_id,
                               WorkItem.status == WorkStatus.OPEN)
        .options(joinedload(WorkItem.appointment), joinedload(WorkItem.assigned_to))
        .order_by(WorkItem.created_at, WorkItem.id).limit(limit)))


def colleagues(clinic_ids: list[int]) -> list[User]:
    """Active staff of these clinics, by name: those an item can be given to."""
    return list(db.session.scalars(
        select(User).join(StaffMembership).where(StaffMembership.clinic_id.in_(clinic_ids),
                                                 User.disabled_at.is_(None))
        .order_by(User.display_name, User.id).distinct()))


def history(item: WorkItem) -> list[WorkItemEvent]:
    return list(db.session.scalars(
        select(WorkItemEvent).where(WorkItemEvent.item_id == item.id)
        .options(selectinload(WorkItemEvent.by), selectinload(WorkItemEvent.assignee))
        .order_by(WorkItemEvent.at, WorkItemEvent.id)))


def note_update(item: WorkItem, note: str = "") -> None:
    """The patient changed what the item is about (the caller commits)."""
    db.session.add(WorkItemEvent(item_id=item.id, kind=WorkEventKind.UPDATED, note=note[:500]))


def assign(item: WorkItem, to: User | None, by: User) -> None:
    """Give the item to a staff member of its clinic, or back to the clinic (None). Commits."""
    if to is not None and not any(m.clinic_id == item.clinic_id for m in to.memberships):
        raise WorkError(_l("Choose someone at the patient's clinic."), "not_staff")
    if item.status is WorkStatus.DONE:
        raise WorkError(_l("This item is already done."), "done")
    new_id = to.id if to is not None else None
    if item.assigned_to_id == new_id:
        return
    item.assigned_to_id = new_id
    db.session.add(WorkItemEvent(item_id=item.id, kind=WorkEventKind.ASSIGNED, by_id=by.id,
                                 assignee_id=new_id))
    db.session.commit()


def mark_done(item: WorkItem, by: User, note: str = "", commit: bool = True) -> bool:
    """Close an item, saying who did and, optionally, what was done. False when it was
    done already. Commits unless told not to."""
    if item.status is WorkStatus.DONE:
        return False
    item.status = WorkStatus.DONE
    item.done_at = utcnow()
    item.done_by_id = by.id
    item.done_note = note.strip()[:500]
    db.session.add(WorkItemEvent(item_id=item.id, kind=WorkEventKind.DONE, by_id=by.id,
                                 note=item.done_note))
    if commit:
        db.session.commit()
    return True


def mark_many_done(items: list[WorkItem], by: User, note: str = "") -> int:
    """Close several items with one note, in one transaction; how many were still open."""
    if len(items) > BULK_MAX:
        raise WorkError(_l("Choose at most %(n)d items at a time.", n=BULK_MAX), "too_many")
    count = sum(mark_done(item, by, note, commit=False) for item in items)
    db.session.commit()
    return count


def reopen(item: WorkItem, by: User) -> None:
    """Undo "done" (a mistake, or more to do). Commits."""
    if item.status is WorkStatus.OPEN:
        return
    item.status = WorkStatus.OPEN
    item.done_at = None
    item.done_by_id = None
    db.session.add(WorkItemEvent(item_id=item.id, kind=WorkEventKind.REOPENED, by_id=by.id))
    db.session.commit()
