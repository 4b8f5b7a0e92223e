"""Dates as people in Vietnamese offices write them: dd/mm/yyyy everywhere (pages, exports, PDF).

Django's own Vietnamese formats spell dates out ("Ngày 5 tháng 3 năm 2026"); these replace them so that
`{{ value|date }}`, form widgets and `localize` all print and parse dd/mm/yyyy (settings.FORMAT_MODULE_PATH).
"""

DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = r"\t\h\á\n\g m/Y"
MONTH_DAY_FORMAT = "d/m"
FIRST_DAY_OF_WEEK = 1
# Typed dates: dd/mm/yyyy first (what the widget writes), ISO kept for links and older bookmarks.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]
