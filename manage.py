#!/usr/bin/env python
"""Django's command-line utility."""
import os
import sys


def main():
    """Run administrative tasks."""
    if sys.argv[1:2] == ["predict"]:
        # The prediction CLI needs no database, URLs or settings: answer without Django setup.
        from ml.cli import main as predict
        sys.exit(predict(sys.argv[2:], prog="manage.py predict"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sersite.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
