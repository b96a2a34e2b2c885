"""`python -m ml predict ...` and `python -m ml enrol ...`: see ml.cli."""
import sys

from .cli import enrol_main, main

if __name__ == "__main__":
    commands = {"predict": main, "enrol": enrol_main}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit("usage: python -m ml predict PATH... [--json] [--model PATH] [--jobs N] "
                 "[--profile PROFILE | --same-speaker]\n"
                 "       python -m ml enrol --out PROFILE [--name NAME] [--add] PATH...")
    sys.exit(commands[sys.argv[1]](sys.argv[2:]))
