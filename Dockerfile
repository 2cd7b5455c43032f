FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_DEBUG=false
WORKDIR /app

COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/production.txt

COPY . .
# collectstatic needs settings to load; the real secrets come from the environment at run time. The build
# context leaves out .env, var/ and caches (.dockerignore); production settings write nothing at import.
RUN SECRET_KEY=build-only SALT_KEY=build-only python manage.py collectstatic --noinput

RUN useradd --create-home wxsite && mkdir -p /app/var && chown -R wxsite /app/var
USER wxsite
EXPOSE 8000
CMD ["gunicorn", "wxsite.wsgi:application", "--config", "python:wxsite.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "30"]
