"""`python -m ml predict ...`: see ml.cli."""
import sys

from .cli import main

if __name__ == "__main__":
    if sys.argv[1:2] != ["predict"]:
        sys.exit("usage: python -m ml predict PATH... [--json] [--model PATH] [--jobs N]")
    sys.exit(main(sys.argv[2:]))
