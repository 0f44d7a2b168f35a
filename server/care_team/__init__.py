"""The care team: who is responsible for what, how to reach them, handovers that never
leave a gap, and moving a patient between clinics.

models.py      the tables (members, areas, responsibilities, handovers, transfers, events)
areas.py       the areas of responsibility (built in, and a clinic's own)
team.py        the team as patients, relatives and staff see it; members, gaps, contacts
handovers.py   proposing, accepting, declining, withdrawing and escalating a handover
transfers.py   moving a patient to another clinic, in one transaction at acceptance
forms.py       forms; views.py (patients, relatives); staff_views.py (staff)
"""
