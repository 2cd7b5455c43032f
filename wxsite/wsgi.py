import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wxsite.settings")

from wxsite.handlers import wsgi_application  # after the settings module is named

application = wsgi_application()
