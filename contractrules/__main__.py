"""``python -m contractrules``: the command line (see :mod:`contractrules.cli`)."""

from contractrules.cli import main

if __name__ == "__main__":
    main(prog_name="contractrules")
