"""Run the Compute Engine stand-in: python -m tests.emulators.compute --port PORT [--seed FILE]."""

import sys

from ..json_api import seeded_main
from .server import ComputeEmulator


def main(argv=None):
    return seeded_main(ComputeEmulator, "python -m tests.emulators.compute", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
