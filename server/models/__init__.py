"""Typed SQLAlchemy models, one module per concept."""

# The care team keeps its tables in its own package (server/care_team); registering them
# here puts them on the same metadata, for Alembic and the tests; so do the conversations
# (server/messages) and the plans (server/plans).
from server.care_team import models as _care_team_models  # noqa: F401
from server.fhir import models as _fhir_models  # noqa: F401
from server.messages import models as _messages_models  # noqa: F401
from server.models.access_log import AccessLogEntry, AccessTarget
from server.models.appointment import (
    Appointment,
    AppointmentStatus,
    Attendance,
    MeetingKind,
    PatientAnswer,
    ServiceKind,
)
from server.models.clinic import Clinic
from server.models.credentials import (
    CodePurpose,
    DevSms,
    OneTimeCode,
    Passkey,
    SignInEvent,
    SignInMethod,
    SignInOutcome,
    StaffPendingSignIn,
    TotpSecret,
)
from server.models.feedback import (
    AnonymousFeedback,
    FeedbackInvitation,
    FeedbackResponse,
    FeedbackSettings,
    FeedbackVia,
    InvitationStatus,
)
from server.models.outbox import MessagePurpose, MessageStatus, OutboxMessage
from server.models.patient import Channel, PatientProfile
from server.models.relatives import (
    ConsentMethod,
    DevEmail,
    InviteStatus,
    ObservationKind,
    RelativeAccess,
    RelativeAgreement,
    RelativeInvitation,
    RelativeObservation,
    RelativeScope,
)
from server.models.reminders import PushSubscription, ReminderSettings
from server.models.session import UserSession
from server.models.sms_inbound import InboundSms
from server.models.staff import StaffMembership, StaffRole
from server.models.take_home import (
    DECIDED,
    GRANTED,
    UNDECIDED,
    Abroad,
    ArrangementChange,
    PeriodReason,
    PickupPlace,
    PickupPlan,
    RequestKind,
    RequestStatus,
    TakeHomeRequest,
    TakeHomeRules,
)
from server.models.user import Role, User
from server.models.worklist import WorkEventKind, WorkItem, WorkItemEvent, WorkKind, WorkStatus
from server.national_id import models as _national_id_models  # noqa: F401
from server.plans import models as _plans_models  # noqa: F401

__all__ = [
    "ConsentMethod",
    "DevEmail",
    "InviteStatus",
    "ObservationKind",
    "RelativeAccess",
    "RelativeAgreement",
    "RelativeInvitation",
    "RelativeObservation",
    "RelativeScope",
    "AnonymousFeedback",
    "FeedbackInvitation",
    "FeedbackResponse",
    "FeedbackSettings",
    "FeedbackVia",
    "InvitationStatus",
    "DECIDED",
    "GRANTED",
    "UNDECIDED",
    "Abroad",
    "ArrangementChange",
    "PeriodReason",
    "PickupPlace",
    "PickupPlan",
    "RequestKind",
    "RequestStatus",
    "TakeHomeRequest",
    "TakeHomeRules",
    "AccessLogEntry",
    "AccessTarget",
    "Appointment",
    "AppointmentStatus",
    "Attendance",
    "InboundSms",
    "MeetingKind",
    "MessagePurpose",
    "MessageStatus",
    "OutboxMessage",
    "PatientAnswer",
    "PushSubscription",
    "ReminderSettings",
    "ServiceKind",
    "WorkEventKind",
    "WorkItem",
    "WorkItemEvent",
    "WorkKind",
    "WorkStatus",
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
    "StaffPendingSignIn",
    "TotpSecret",
    "User",
    "UserSession",
]
