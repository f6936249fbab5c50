# "2 thg 12, 2026" and "2 thg 12, 2026 14:05:09": see crmadmin/formats/__init__.py.
# Letters that are format characters are escaped: "thg" is the usual short "tháng".
DATE_FORMAT = r"j \t\h\g n, Y"
DATETIME_FORMAT = r"j \t\h\g n, Y H:i:s"
MONTH_DAY_FORMAT = r"j \t\h\g n"
TIME_FORMAT = "H:i:s"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
