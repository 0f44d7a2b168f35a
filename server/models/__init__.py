"""Typed SQLAlchemy models, one module per concept."""

from server.models.access_log import AccessLogEntry, AccessTarget
from server.models.clinic import Clinic
from server.models.credentials import (
    CodePurpose,
    DevSms,
    OneTimeCode,
    Passkey,
    SignInEvent,
    SignInMethod,
    SignInOutcome,
    TotpSecret,
)
from server.models.patient import Channel, PatientProfile
from server.models.session import UserSession
from server.models.staff import StaffMembership, StaffRole
from server.models.user import Role, User

__all__ = [
    "AccessLogEntry",
    "AccessTarget",
    "Channel",
    "Clinic",
    "CodePurpose",
    "DevSms",
    "OneTimeCode",
    "Passkey",
    "PatientProfile",
    "Role",
    "SignInEvent",
    "SignInMethod",
    "SignInOutcome",
    "StaffMembership",
    "StaffRole",
    "TotpSecret",
    "User",
    "UserSession",
]
