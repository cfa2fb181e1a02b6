"""Run the Compute Engine stand-in: python -m tests.emulators.compute --port PORT [--seed FILE]."""

import argparse
import sys

from ..json_api import serve_until_signalled
from .server import ComputeEmulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.emulators.compute", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--seed", help="JSON data set to serve (see README.md)")
    args = parser.parse_args(argv)
    return serve_until_signalled(ComputeEmulator(port=args.port, seed=args.seed))


if __name__ == "__main__":
    sys.exit(main())
