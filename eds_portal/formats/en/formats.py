# English dates day first, with the month in letters: "4 Dec 2026", never "12/04/2026".
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 1  # Monday
# Typed dates: ISO or day first; the American month-first forms are not accepted.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2026-12-04'
    "%d/%m/%Y",  # '04/12/2026'
    "%d %b %Y",  # '4 Dec 2026'
    "%d %B %Y",  # '4 December 2026'
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
]
