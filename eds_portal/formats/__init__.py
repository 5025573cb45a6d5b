"""Date formats of the portal's languages (settings.FORMAT_MODULE_PATH).

One unambiguous date format per language, the same for the long and the short forms, so that a
page never shows "12/04/2026" beside "Dec. 4, 2028": English "4 Dec 2026", French "4 décembre 2026".
Django's defaults would give the American month-first short form in English.
"""
