"""``python -m rbgia.book``: see :mod:`rbgia.book.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
