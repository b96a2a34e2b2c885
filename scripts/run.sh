#!/usr/bin/env bash
# Set up (virtualenv, dependencies, SQLite database) and run the app with the bundled model.
# HOST and PORT choose the address (default 127.0.0.1:8000).
source "$(dirname "$0")/venv.sh" requirements.txt
export DEBUG="${DEBUG:-1}"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py createcachetable
exec .venv/bin/python manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
