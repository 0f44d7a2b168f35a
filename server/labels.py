"""Plain-language names for enum values, shown to people in their language."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from server.models import AccessTarget, Channel, StaffRole

STAFF_ROLES: dict[str, LazyString] = {
    StaffRole.DOCTOR.value: _l("doctor"),
    StaffRole.NURSE.value: _l("nurse"),
    StaffRole.SOCIAL_WORKER.value: _l("social worker"),
    StaffRole.COORDINATOR.value: _l("coordinator"),
    StaffRole.CLINIC_ADMIN.value: _l("clinic administrator"),
    "relative": _l("relative or close person"),
}

#: What was opened, completing the sentence "... opened ___".
ACCESS_TARGETS: dict[AccessTarget, LazyString] = {
    AccessTarget.PATIENT_OVERVIEW: _l("your overview page"),
    AccessTarget.CONTACT_DETAILS: _l("your contact details"),
}

CHANNELS: dict[str, LazyString] = {
    Channel.PUSH.value: _l("notification in the app"),
    Channel.SMS.value: _l("SMS"),
    Channel.LETTER.value: _l("letter"),
}
