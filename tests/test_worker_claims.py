"""The worker's claims and batches: due order, expired leases taken over, two workers never
holding the same message, the partial indexes (in the schema and in the claim's plan), and
a batch's queries not growing with its messages."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, text

from server.extensions import db
from server.models import MessagePurpose, MessageStatus, OutboxMessage, PatientProfile
from server.notify import worker as worker_module
from server.notify.worker import Worker
from server.services import outbox
from tests.conftest import CapturingSms, World

NOW = datetime(2031, 6, 2, 10, 0, tzinfo=UTC)  # 12:00 in Oslo: no quiet hours


@pytest.fixture(autouse=True)
def daytime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "utcnow", lambda: NOW)


def planned(patient: PatientProfile, key: str, due_in: timedelta) -> int:
    message = outbox.enqueue(key=key, purpose=MessagePurpose.NO_SHOW, patient=patient,
                             template="no_show", due_at=NOW + due_in)
    db.session.commit()
    assert message is not None
    return message.id


def test_pending_work_is_claimed_in_due_order_and_not_before_its_time(world: World) -> None:
    later = planned(world.patient_x, "later", timedelta(minutes=-1))
    first = planned(world.patient_y, "first", timedelta(minutes=-30))
    future = planned(world.patient_x, "future", timedelta(minutes=5))
    second = planned(world.patient_x, "second", timedelta(minutes=-10))
    worker = Worker(name="w", batch_size=2)
    assert worker.claim(NOW) == [first, second]
    assert worker.claim(NOW) == [later]
    assert worker.claim(NOW) == []
    assert db.session.get(OutboxMessage, future).status is MessageStatus.PENDING
    claimed = db.session.get(OutboxMessage, first)
    assert claimed.status is MessageStatus.SENDING and claimed.claimed_by.startswith("w:")
    assert claimed.lease_until == NOW + worker.lease


def test_an_expired_lease_is_taken_over_before_pending_work(world: World) -> None:
    held = planned(world.patient_x, "held", timedelta(minutes=-5))
    expired = planned(world.patient_x, "expired", timedelta(minutes=-4))
    assert Worker(name="alive", batch_size=1).claim(NOW) == [held]  # its lease runs 2 min
    assert Worker(name="dead", batch_size=1, lease=timedelta(seconds=-1)).claim(NOW) == [expired]
    pending = planned(world.patient_y, "pending", timedelta(minutes=-60))  # due earliest

    taker = Worker(name="taker", batch_size=1)
    assert taker.claim(NOW) == [expired]
    assert db.session.get(OutboxMessage, expired).claimed_by.startswith("taker:")
    assert taker.claim(NOW) == [pending]
    assert taker.claim(NOW) == []  # "held" is still leased to "alive"
    assert taker.claim(NOW + timedelta(minutes=3)) == [held]


def test_two_workers_claiming_at_once_never_hold_the_same_message(app: Flask,
                                                                  world: World) -> None:
    ids = {planned(world.patient_x if n % 2 else world.patient_y, f"m{n}",
                   timedelta(seconds=-n)) for n in range(60)}
    start = threading.Barrier(2)
    claims: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def claim_all(name: str) -> None:
        try:
            with app.app_context():
                worker = Worker(name=name, batch_size=7)
                start.wait(timeout=10)
                while batch := worker.claim(NOW):
                    claims[name] += batch
                db.session.remove()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=claim_all, args=(name,)) for name in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert not set(claims["a"]) & set(claims["b"])
    assert Counter(claims["a"] + claims["b"]) == Counter(ids)
    assert claims["a"] and claims["b"], claims  # both took part
    owners = dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.claimed_by)).all())
    assert all(owners[i].startswith(f"{name}:") for name, got in claims.items() for i in got)


def _plan(sql: Any) -> str:
    """The database's plan for a compiled statement, as text (then rolled back)."""
    if db.engine.dialect.name == "postgresql":
        # A test's tiny table would be read whole, or through a bitmap (which loses the
        # index's order) and then sorted; with those off, and a sort priced as a last resort,
        # a Sort in the plan means the index cannot give the order, not that it was cheaper.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            db.session.execute(text(f"SET LOCAL {setting} = off"))
        plan = "\n".join(db.session.execute(text(f"EXPLAIN {sql}")).scalars())
    else:
        plan = "\n".join(row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    db.session.rollback()
    return plan


def test_the_partial_indexes_exist_and_serve_the_pending_claim(world: World) -> None:
    pg = db.engine.dialect.name == "postgresql"
    found = dict(db.session.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'outbox_message'" if pg
        else "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'outbox_message'")).all())
    assert "(due_at, id) WHERE ((status)::text = 'pending'::text)" in \
        found["ix_outbox_message_pending_due"] if pg else \
        "(due_at, id) WHERE status = 'pending'" in found["ix_outbox_message_pending_due"]
    assert "'sending'" in found["ix_outbox_message_sending_lease"]
    # Migration 0022: the letter queue has its own partial index, and the (status, due_at)
    # index, which no query needs any more, is gone (one index less per planned message).
    assert "'letter_queued'" in found["ix_outbox_message_letter_queue"]
    assert "NOT NULL" in found["ix_outbox_message_provider_message_id"].upper()
    assert "ix_outbox_message_due" not in found
    planned(world.patient_x, "m", timedelta(minutes=-1))
    statement = Worker(name="w").claim_statements(NOW, "w:0", 50)[1]
    sql = statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    # The partial index must serve the claim in due order (no sort), which it can only when
    # the query implies its condition.
    plan = _plan(sql)
    assert "ix_outbox_message_pending_due" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_the_letter_queue_reads_its_partial_index(world: World) -> None:
    """Migration 0022 replaced the (status, due_at) index by one that holds only the letters
    waiting; the letter queue must be able to use it, on both databases."""
    from server.services import letters

    # The status is written into the SQL (a parameter would hide it from the planner) ...
    queue = str(letters.queued_statement([world.clinic_a.id]).compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}))
    assert "status = 'letter_queued'" in queue, queue
    # ... so the index can serve the outbox's side of it. (Which join order the planner takes
    # on a test's few rows depends on statistics; the index's use is what is checked.)
    sql = select(OutboxMessage.id).where(
        OutboxMessage.status == outbox.status_literal(MessageStatus.LETTER_QUEUED)
    ).order_by(OutboxMessage.sent_at, OutboxMessage.id).compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    plan = _plan(sql)
    assert "ix_outbox_message_letter_queue" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_the_models_and_the_migrations_agree(app: Flask) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from server.models.base import Base

    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def _selects_while_delivering(ids: list[int]) -> int:
    worker = Worker(name="w", batch_size=len(ids))
    assert sorted(worker.claim(NOW)) == sorted(ids)
    selects = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        outcomes = worker.deliver(ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert set(outcomes.values()) == {MessageStatus.SENT}
    return len(selects)


def test_a_batch_is_loaded_with_the_same_queries_for_3_messages_as_for_12(
        world: World, sms: CapturingSms) -> None:
    patients = (world.patient_x, world.patient_y, world.patient_b)
    few = [planned(p, f"few{n}", timedelta(minutes=-1)) for n, p in enumerate(patients)]
    few_selects = _selects_while_delivering(few)
    many = [planned(patients[n % 3], f"many{n}", timedelta(minutes=-1)) for n in range(12)]
    assert _selects_while_delivering(many) == few_selects
    assert len(sms.sent) == 15


def test_a_message_failing_unexpectedly_stays_sending_and_the_others_go_once(
        world: World, sms: CapturingSms, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    ids = [planned(world.patient_x, f"m{n}", timedelta(minutes=-10 + n)) for n in range(5)]
    broken = ids[2]
    deliver = worker_module.deliver

    def fails_for_one(message: OutboxMessage, channel: str) -> Any:
        if message.id == broken:
            raise RuntimeError("a bug")
        return deliver(message, channel)

    monkeypatch.setattr(worker_module, "deliver", fails_for_one)
    worker = Worker(name="w")
    assert worker.claim(NOW) == ids
    outcomes = worker.deliver(ids)
    assert outcomes == {i: MessageStatus.SENT for i in ids if i != broken}
    statuses = dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())
    assert statuses == {**{i: MessageStatus.SENT for i in ids}, broken: MessageStatus.SENDING}
    # The two before it were handed to the provider twice (their group was undone), with
    # their keys: each took effect once.
    assert sorted(sms.keys) == sorted(f"m{n}:sms" for n in (0, 1, 3, 4))
    assert len(sms.sent) == 4
    assert f"message {broken} failed unexpectedly" in caplog.text
