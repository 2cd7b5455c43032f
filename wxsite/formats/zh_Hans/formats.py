# Dates in the admin as the WeChat console writes them (2024-05-01 09:30), narrower than Django's 2024年5月1日 09:30.
DATETIME_FORMAT = "Y-m-d H:i"
DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
