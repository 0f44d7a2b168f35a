"""Appointments as iCalendar (.ics) files for the phone's calendar."""

from __future__ import annotations

from icalendar import Calendar, Event

from server.models import Appointment
from server.models.base import utcnow


def appointment_ics(appointment: Appointment, title: str, detailed: bool = False,
                    description: str = "") -> bytes:
    """One VEVENT. The title is discreet unless the patient asks for details."""
    calendar = Calendar()
    calendar.add("prodid", "-//Følge//appointments//NB")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@folge")
    event.add("dtstamp", utcnow())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", title)
    if appointment.address:
        event.add("location", appointment.address)
    if detailed and description:
        event.add("description", description)
    event.add("sequence", appointment.plan_version)
    calendar.add_component(event)
    return calendar.to_ical()
