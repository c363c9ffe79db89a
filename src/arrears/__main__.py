"""``python -m arrears``: the ``arrears`` command line (see `arrears.cli`)."""

from .cli import main

if __name__ == "__main__":
    main()
