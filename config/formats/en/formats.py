"""One way to write dates on every page, email and admin screen: day, month in words, year, 24-hour time.

"6 December 2026" and "6 December 2026, 14:05" (FORMAT_MODULE_PATH in config/settings.py replaces
Django's en-us "Dec. 6, 2026, 2:05 p.m."). CSV exports keep ISO 8601 for spreadsheets.
"""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
