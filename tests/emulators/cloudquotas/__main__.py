"""Run the Cloud Quotas stand-in: python -m tests.emulators.cloudquotas --port PORT [--seed FILE]."""

import sys

from ..json_api import seeded_main
from .server import CloudQuotasEmulator


def main(argv=None):
    return seeded_main(CloudQuotasEmulator, "python -m tests.emulators.cloudquotas", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
