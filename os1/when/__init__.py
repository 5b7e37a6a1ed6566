"""English time expressions, read in one place for every part of her (issue 24): below
memory and the skills, so the calendar, her memory and the mind share one calendar of
names and one way of placing a day, and none imports another to read the time.

``dates.py`` is the ground both readings stand on; ``plans.py`` reads what the calendar
is asked (the coming Friday, an exact minute); ``windows.py`` what her memory is asked or
told (a window of time, placed by the tense around it); ``gaps.py`` says a stretch of
time the way a person says it.
"""
