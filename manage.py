#!/usr/bin/env python
"""Django's command-line utility."""
import os
import sys


def main():
    """Run administrative tasks."""
    if sys.argv[1:2] in (["predict"], ["enrol"]):
        # These CLIs need no database, URLs or settings: answer without Django setup.
        from ml import cli
        command = cli.main if sys.argv[1] == "predict" else cli.enrol_main
        sys.exit(command(sys.argv[2:], prog=f"manage.py {sys.argv[1]}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sersite.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
