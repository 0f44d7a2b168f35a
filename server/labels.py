"""Plain-language names for enum values, shown to people in their language."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from server.models import (
    Abroad,
    AccessTarget,
    ArrangementChange,
    Attendance,
    Channel,
    ConsentMethod,
    MeetingKind,
    MessagePurpose,
    MessageStatus,
    ObservationKind,
    PatientAnswer,
    PeriodReason,
    PickupPlace,
    RelativeScope,
    RequestStatus,
    ServiceKind,
    StaffRole,
    WorkKind,
)

STAFF_ROLES: dict[str, LazyString] = {
    StaffRole.DOCTOR.value: _l("doctor"),
    StaffRole.NURSE.value: _l("nurse"),
    StaffRole.SOCIAL_WORKER.value: _l("social worker"),
    StaffRole.COORDINATOR.value: _l("coordinator"),
    StaffRole.CLINIC_ADMIN.value: _l("clinic administrator"),
    "relative": _l("relative or close person"),
    # The clinic's record system reading through the FHIR interface (server/fhir).
    "record_system": _l("the clinic's record system"),
}

#: What was opened, completing the sentence "... opened ___".
ACCESS_TARGETS: dict[AccessTarget, LazyString] = {
    AccessTarget.PATIENT_OVERVIEW: _l("your overview page"),
    AccessTarget.CONTACT_DETAILS: _l("your contact details"),
    AccessTarget.APPOINTMENT: _l("one of your appointments"),
    AccessTarget.MESSAGES: _l("the messages sent to you"),
    AccessTarget.TAKE_HOME: _l("one of your take-home requests"),
    AccessTarget.FEEDBACK: _l("your check-in answers (only those with your name)"),
    AccessTarget.RELATIVES: _l("your relatives and what they may see"),
    AccessTarget.PICKUP_PLAN: _l("your pickup plan"),
    AccessTarget.NAME: _l("a page with your name on it (a list, a search or a form)"),
    AccessTarget.ACCOUNT: _l("your account (the number you sign in with, or whether it can be used)"),
    AccessTarget.CARE_TEAM: _l("your care team"),
    AccessTarget.TRANSFER: _l("the proposal to move your follow-up to another clinic"),
    AccessTarget.ARCHIVE: _l("what your former clinic kept from before you moved"),
    AccessTarget.CONVERSATION: _l("your messages with your care team"),
    AccessTarget.OBSERVATIONS: _l("what a relative told your team, and the team's answers"),
    AccessTarget.EXPORT: _l("all your information (a download)"),
    AccessTarget.CRISIS_PLAN: _l("your crisis plan"),
    AccessTarget.GOALS: _l("your goals and what is being done for them"),
    AccessTarget.IP_EXPORT: _l("your goals, exported for your individual plan (IP)"),
    AccessTarget.MEETINGS: _l("your responsibility group meetings and their minutes"),
    AccessTarget.ACCESS_LOG: _l("the list of who has seen your information"),
}

HANDOVER_STATUSES: dict[str, LazyString] = {
    "proposed": _l("Waiting for an answer"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
}

TRANSFER_STATUSES: dict[str, LazyString] = {
    "proposed": _l("Waiting for the receiving clinic"),
    "accepted": _l("Accepted: the patient has moved"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
}

CHANNELS: dict[str, LazyString] = {
    Channel.PUSH.value: _l("notification in the app"),
    Channel.SMS.value: _l("SMS"),
    Channel.LETTER.value: _l("letter"),
}

SERVICES: dict[str, LazyString] = {
    ServiceKind.CLINIC.value: _l("Your clinic"),
    ServiceKind.GP.value: _l("GP (fastlege)"),
    ServiceKind.MUNICIPALITY.value: _l("Municipality or NAV"),
    ServiceKind.PSYCHIATRY.value: _l("Mental health care"),
    ServiceKind.OTHER.value: _l("Other"),
}

#: The same services as staff name them: the clinic is "this clinic", not "your clinic".
STAFF_SERVICES: dict[str, LazyString] = {
    **SERVICES, ServiceKind.CLINIC.value: _l("This clinic (LAR)"),
}

MEETINGS: dict[str, LazyString] = {
    MeetingKind.IN_PERSON.value: _l("Meeting in person"),
    MeetingKind.PHONE.value: _l("Phone call"),
    MeetingKind.VIDEO.value: _l("Video call"),
}

#: The patient's answer, as the patient sees it.
ANSWERS: dict[str, LazyString] = {
    PatientAnswer.NONE.value: _l("You have not answered yet."),
    PatientAnswer.CONFIRMED.value: _l("You said you are coming."),
    PatientAnswer.CANNOT_COME.value: _l("You said you cannot come."),
    PatientAnswer.NEW_TIME.value: _l("You asked for another time."),
}

#: The patient's answer, as staff see it.
STAFF_ANSWERS: dict[str, LazyString] = {
    PatientAnswer.NONE.value: _l("No answer"),
    PatientAnswer.CONFIRMED.value: _l("Coming"),
    PatientAnswer.CANNOT_COME.value: _l("Cannot come"),
    PatientAnswer.NEW_TIME.value: _l("Wants another time"),
}

ATTENDANCE: dict[str, LazyString] = {
    Attendance.UNKNOWN.value: _l("Not marked"),
    Attendance.ATTENDED.value: _l("Attended"),
    Attendance.MISSED.value: _l("Missed"),
}

MESSAGE_STATUS: dict[str, LazyString] = {
    MessageStatus.PENDING.value: _l("Waiting"),
    MessageStatus.SENDING.value: _l("Being sent"),
    MessageStatus.SENT.value: _l("Sent"),
    MessageStatus.LETTER_QUEUED.value: _l("In the letter queue"),
    MessageStatus.PRINTED.value: _l("Printed"),
    MessageStatus.CANCELLED.value: _l("Cancelled"),
    MessageStatus.FAILED.value: _l("Could not be delivered"),
}

MESSAGE_PURPOSE: dict[str, LazyString] = {
    MessagePurpose.REMINDER.value: _l("Reminder"),
    MessagePurpose.NOTICE.value: _l("Notice of appointment"),
    MessagePurpose.NO_SHOW.value: _l("Message after a missed appointment"),
    MessagePurpose.REPLY.value: _l("Reply to an SMS"),
    MessagePurpose.PUSH_TEST.value: _l("Test notification"),
    MessagePurpose.TEAM_SHEET.value: _l("Care team on paper"),
    MessagePurpose.TRANSFER.value: _l("Move to another clinic"),
    MessagePurpose.MESSAGE.value: _l("Answer from the care team"),
    MessagePurpose.STAFF_MESSAGE.value: _l("Email to staff about a message"),
    MessagePurpose.DECISION.value: _l("An answer to a request"),
    MessagePurpose.FEEDBACK_INVITE.value: _l("Invitation to give feedback"),
    MessagePurpose.FEEDBACK_REMINDER.value: _l("Reminder to give feedback"),
    MessagePurpose.RELATIVE_ADDED.value: _l("A relative was added"),
    MessagePurpose.ACCESS_ENDED.value: _l("A relative's access ended"),
    MessagePurpose.INVITE_FAILED.value: _l("An old invitation link was tried"),
    MessagePurpose.AGREED.value: _l("Notes or minutes are ready"),
    MessagePurpose.CRISIS_PLAN.value: _l("Crisis plan on paper"),
}

#: What a conversation is about (server/messages); a patient may leave it open.
TOPICS: dict[str, LazyString] = {
    "appointments": _l("Appointments"),
    "take_home": _l("Take-home doses"),
    "medication": _l("Medicines"),
    "practical": _l("Something practical"),
    "other": _l("Something else"),
}

OUTREACH_METHODS: dict[str, LazyString] = {
    "call": _l("Call"),
    "sms": _l("SMS"),
    "letter": _l("Letter"),
    "home_visit": _l("Home visit"),
    "relative": _l("Contact the relative the patient allowed"),
}


PICKUP_PLACES: dict[str, LazyString] = {
    PickupPlace.PHARMACY.value: _l("A pharmacy"),
    PickupPlace.CLINIC.value: _l("The clinic"),
    PickupPlace.HOME_SERVICE.value: _l("The home service brings it"),
    PickupPlace.TRAVEL_PHARMACY.value: _l("A pharmacy where I am travelling"),
}

#: The same places as staff and pickup places read them (pages for staff, the dispensing notice).
PICKUP_PLACES_STAFF: dict[str, LazyString] = {
    PickupPlace.PHARMACY.value: _l("Pharmacy"),
    PickupPlace.CLINIC.value: _l("The clinic"),
    PickupPlace.HOME_SERVICE.value: _l("Municipal home service"),
    PickupPlace.TRAVEL_PHARMACY.value: _l("Pharmacy at the travel destination"),
}

PERIOD_REASONS: dict[str, LazyString] = {
    PeriodReason.TRAVEL.value: _l("Travel"),
    PeriodReason.WORK.value: _l("Work"),
    PeriodReason.HOLIDAY.value: _l("Holiday"),
    PeriodReason.ILLNESS.value: _l("Illness"),
    PeriodReason.FAMILY.value: _l("Family"),
    PeriodReason.OTHER.value: _l("Something else"),
}

ARRANGEMENT_CHANGES: dict[str, LazyString] = {
    ArrangementChange.FEWER_PICKUPS.value: _l("Fewer pickups a week"),
    ArrangementChange.OTHER_PLACE.value: _l("Another pharmacy or pickup place"),
    ArrangementChange.OTHER_DAYS.value: _l("Other pickup days"),
    ArrangementChange.OTHER.value: _l("Something else"),
}

ABROAD: dict[str, LazyString] = {
    Abroad.NO.value: _l("No, I stay in Norway"),
    Abroad.SCHENGEN.value: _l("Yes, within the Schengen area (most of Europe)"),
    Abroad.OUTSIDE_SCHENGEN.value: _l("Yes, outside the Schengen area"),
}

REQUEST_STATUSES: dict[str, LazyString] = {
    RequestStatus.SUBMITTED.value: _l("Sent"),
    RequestStatus.UNDER_REVIEW.value: _l("Being looked at"),
    RequestStatus.APPROVED.value: _l("Approved"),
    RequestStatus.PARTLY_APPROVED.value: _l("Partly approved"),
    RequestStatus.DECLINED.value: _l("Not approved"),
    RequestStatus.WITHDRAWN.value: _l("Withdrawn"),
}

WEEKDAYS: list[LazyString] = [
    _l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
    _l("Saturday"), _l("Sunday"),
]


#: What a relative may do, as the patient chooses it.
RELATIVE_SCOPES: dict[str, LazyString] = {
    RelativeScope.APPOINTMENTS.value: _l("See my upcoming appointments"),
    RelativeScope.REMINDERS.value: _l("Get reminders of my appointments"),
    RelativeScope.TAKE_HOME.value: _l("See decisions on my take-home requests"),
    RelativeScope.PICKUP_PLAN.value: _l("See my pickup plan"),
    RelativeScope.OBSERVATIONS.value: _l("Send what they notice to my care team"),
    RelativeScope.NO_SHOW_CONTACT.value: _l("Be contacted by the clinic if I miss an appointment"),
    RelativeScope.CARE_TEAM.value: _l("See my care team's contacts"),
    RelativeScope.CRISIS_PLAN.value: _l("See my crisis plan"),
    RelativeScope.MEETING_NOTES.value: _l("See my responsibility group meetings and their minutes"),
}

#: The same scopes as staff read them.
RELATIVE_SCOPES_STAFF: dict[str, LazyString] = {
    RelativeScope.APPOINTMENTS.value: _l("Sees upcoming appointments"),
    RelativeScope.REMINDERS.value: _l("Gets appointment reminders"),
    RelativeScope.TAKE_HOME.value: _l("Sees take-home decisions"),
    RelativeScope.PICKUP_PLAN.value: _l("Sees the pickup plan"),
    RelativeScope.OBSERVATIONS.value: _l("Sends observations to the care team"),
    RelativeScope.NO_SHOW_CONTACT.value: _l("May be contacted if the patient misses an appointment"),
    RelativeScope.CARE_TEAM.value: _l("Sees the care team's contacts"),
    RelativeScope.CRISIS_PLAN.value: _l("Sees the crisis plan"),
    RelativeScope.MEETING_NOTES.value: _l("Sees responsibility group meetings and minutes"),
}

OBSERVATION_KINDS: dict[str, LazyString] = {
    ObservationKind.WORRY.value: _l("Something I worry about"),
    ObservationKind.CHANGE.value: _l("A change I have noticed"),
    ObservationKind.PRACTICAL.value: _l("Something practical"),
}

CONSENT_METHODS: dict[str, LazyString] = {
    ConsentMethod.IN_PERSON.value: _l("In person, at the clinic"),
    ConsentMethod.PHONE.value: _l("On the phone"),
    ConsentMethod.IN_WRITING.value: _l("In writing"),
}

#: Worklist kinds, as the filter and the table name them.
WORK_KINDS: dict[str, LazyString] = {
    WorkKind.OUTREACH.value: _l("Missed appointment"),
    WorkKind.ANSWER.value: _l("Answer to an appointment"),
    WorkKind.SMS_STOPPED.value: _l("Stopped SMS"),
    WorkKind.MESSAGE_FAILED.value: _l("Message not delivered"),
    WorkKind.FEEDBACK_ALERT.value: _l("Feedback to discuss"),
    WorkKind.RELATIVE_OBSERVATION.value: _l("From a relative"),
    WorkKind.STOPPED_USING.value: _l("Stopped using Følge"),
}

#: "Before my appointment": what the patient can tick to talk about (server/plans/agenda.py).
TALK_TOPICS: dict[str, LazyString] = {
    "medication": _l("My medication and dose"),
    "side_effects": _l("Side effects"),
    "take_home": _l("Take-home doses"),
    "control": _l("Control measures, such as a blood or hair sample instead of urine"),
    "housing": _l("Housing"),
    "work_money": _l("Work and money"),
    "health": _l("My health otherwise"),
    "relatives": _l("My relatives"),
}

#: A goal's status (server/plans/goals.py), as both the patient and staff read it.
GOAL_STATUSES: dict[str, LazyString] = {
    "started": _l("Started"),
    "going_well": _l("Going well"),
    "stuck": _l("Stuck"),
    "reached": _l("Reached"),
    "dropped": _l("Dropped"),
}


#: How a session was signed in, as the person reads it ("Where you are signed in"): the
#: method, or for ID-porten its level.
SIGN_IN_LEVELS: dict[str, LazyString] = {
    "sms_code": _l("with a code by SMS"),
    "passkey": _l("with a passkey"),
    "password_totp": _l("with password and code"),
    "helseid": _l("with HelseID"),
    "idporten-loa-substantial": _l("with ID-porten (substantial level)"),
    "idporten-loa-high": _l("with ID-porten (high level)"),
}
