"""Registering a clinic's record system for the FHIR interface (the CLI's fhir-client)."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.fhir.models import SystemClient
from server.fhir.tokens import grants
from server.models import Clinic, Role, User
from server.models.base import utcnow

#: What a record system gets unless told otherwise: everything the interface offers, with
#: Appointment the only resource it writes.
DEFAULT_SCOPES = ("system/Patient.rs system/Appointment.cru system/Appointment.s "
                  "system/AppointmentResponse.rs system/Task.rs system/MedicationRequest.rs "
                  "system/Questionnaire.rs system/QuestionnaireResponse.rs system/CareTeam.rs "
                  "system/CarePlan.rs system/Goal.rs system/AuditEvent.rs")


class ClientError(ValueError):
    """A registration that cannot be made; the message says why."""


def register(clinic: Clinic, client_id: str, name: str, scopes: str = DEFAULT_SCOPES
             ) -> SystemClient:
    """Register ``client_id`` (as the token issuer knows it) for ``clinic``. Commits."""
    client_id, name = client_id.strip(), name.strip()
    if not client_id or len(client_id) > 200 or not name or len(name) > 200:
        raise ClientError("A client id and a name (each up to 200 characters) are needed.")
    for scope in scopes.split():
        if not any(grants(scope, scope.partition("/")[2].partition(".")[0], letter)
                   for letter in "cruds"):
            raise ClientError(f"Not a SMART system scope: {scope!r} "
                              "(for example system/Appointment.cru).")
    if db.session.scalar(select(SystemClient.id).where(SystemClient.client_id == client_id)):
        raise ClientError(f"The client id {client_id} is registered already.")
    user = User(role=Role.SYSTEM, display_name=name)
    client = SystemClient(client_id=client_id, clinic_id=clinic.id, user=user,
                          scopes=" ".join(scopes.split()))
    db.session.add_all([user, client])
    db.session.commit()
    return client


def disable(client_id: str) -> SystemClient:
    """End a registration: its tokens are refused from now on. Commits."""
    client = db.session.scalar(select(SystemClient).where(SystemClient.client_id == client_id))
    if client is None:
        raise ClientError(f"No record system has the client id {client_id}.")
    client.disabled_at = client.disabled_at or utcnow()
    db.session.commit()
    return client
