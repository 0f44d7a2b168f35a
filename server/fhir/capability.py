"""The CapabilityStatement: exactly what the FHIR interface implements.

tests/test_fhir.py checks it against the routes, so a new endpoint cannot be left out of it
(nor one listed that does not exist).
"""

from __future__ import annotations

from typing import Any

from server.fhir import resources
from server.models.base import utcnow

#: resource type -> (interactions, search parameters with their types)
RESOURCES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "Patient": (("read", "search-type"), {"identifier": "token", "_id": "token"}),
    "Appointment": (("read", "search-type", "create", "update"),
                    {"patient": "reference", "date": "date", "identifier": "token",
                     "status": "token"}),
    "AppointmentResponse": (("read", "search-type"),
                            {"patient": "reference", "appointment": "reference"}),
    "Task": (("read", "search-type"), {"patient": "reference"}),
    "MedicationRequest": (("read", "search-type"), {"patient": "reference"}),
    "Questionnaire": (("read", "search-type"), {"url": "uri", "version": "token"}),
    "QuestionnaireResponse": (("read", "search-type"), {"patient": "reference"}),
    "CareTeam": (("read", "search-type"), {"patient": "reference"}),
    "CarePlan": (("read", "search-type"), {"patient": "reference"}),
    "Goal": (("read", "search-type"), {"patient": "reference"}),
    "AuditEvent": (("read", "search-type"), {"patient": "reference"}),
}

#: SMART on FHIR v2 system scopes the interface understands (v1 .read/.write too).
SCOPE_EXAMPLES = ("system/Patient.rs", "system/Appointment.cru", "system/Appointment.rs",
                  "system/AppointmentResponse.rs", "system/Task.rs",
                  "system/MedicationRequest.rs", "system/Questionnaire.rs",
                  "system/QuestionnaireResponse.rs", "system/CareTeam.rs", "system/CarePlan.rs",
                  "system/Goal.rs", "system/AuditEvent.rs")


def statement() -> dict[str, Any]:
    rest_resources = []
    for kind, (interactions, params) in RESOURCES.items():
        entry: dict[str, Any] = {
            "type": kind,
            "interaction": [{"code": code} for code in interactions],
            "searchParam": [{"name": name, "type": kind_of}
                            for name, kind_of in params.items()],
        }
        if "update" in interactions:
            entry.update({"versioning": "versioned-update", "readHistory": False,
                          "updateCreate": False, "conditionalCreate": False,
                          "conditionalUpdate": True})
        rest_resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": utcnow().date().isoformat(),
        "publisher": "Følge",
        "kind": "instance",
        "software": {"name": "Følge"},
        "implementation": {"description": "Følge's FHIR R4 interface for a clinic's record "
                                          "system", "url": resources.base_url()},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{
            "mode": "server",
            "documentation": "Appointments are created idempotently by their identifier; "
                             "If-Match with the ETag refuses an update on top of another. "
                             "Unknown search parameters are refused (strict handling).",
            "security": {
                "service": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "code": "SMART-on-FHIR"}]}],
                "description": "OAuth 2.0 client credentials with private_key_jwt at the "
                               "configured issuer; a JWT access token (RFC 9068) with SMART "
                               "v2 system scopes, for example " + ", ".join(SCOPE_EXAMPLES),
            },
            "resource": rest_resources,
        }],
    }
