"""One date format and one date-time format per language (FORMAT_MODULE_PATH).

Every list, detail, history, audit page, dashboard axis and date custom field shows
times through these names (``DATE_FORMAT``, ``DATETIME_FORMAT``, ``MONTH_DAY_FORMAT``);
the SHORT_ variants are the same, so no screen can pick another. Months are words, not
numbers, so nothing reads two ways (12/02 is 2 December or 12 February); seconds, not
microseconds.
"""
