"""Vectorised parsers that turn clinic free text into controlled vocabularies.

Modules
-------
soreness
    Post-needling soreness durations -> intervals in hours.
vocabulary
    Adverse-event terms, severities, yes/no flags and needled muscles.
dates
    Visit dates under a declared convention (ISO, day-first, month-first, strftime).

Every parser factorises its input, parses the few distinct values in Python and
maps the results back with numpy, so cohorts of millions of rows cost about as
much as their number of distinct spellings. Free text is never evaluated.
"""
