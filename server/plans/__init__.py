"""The patient's plans: the crisis plan ("When things get hard"), kept in versions.

models.py   the tables (every save of a crisis plan is a new version; nothing is overwritten)
crisis.py   reading, saving with a check for a change made meanwhile, who may see it
forms.py    the form; views.py (the patient, /me/crisis-plan; a relative with the scope);
            staff_views.py (the care team, when the patient shares it)
"""
