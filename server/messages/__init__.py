"""Conversations between a patient and their care team: nothing a person writes is lost.

models.py          the tables (conversations, messages, events, quick answers)
conversations.py   writing, answering, assigning, closing, withdrawing; the inbox; SMS
forms.py           forms; views.py (the patient, /me/messages); staff_views.py (the inbox)
"""
