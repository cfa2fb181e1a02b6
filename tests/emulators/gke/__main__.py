"""Run the GKE API emulator standalone: python -m tests.emulators.gke --port PORT [--state-file FILE]."""

import argparse
import sys

from ..json_api import serve_until_signalled
from .server import GkeEmulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.emulators.gke", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--state-file", help="JSON file loaded at start and rewritten after every change")
    parser.add_argument("--operation-seconds", type=float, default=2.0,
                        help="how long each long-running operation takes (default 2.0)")
    args = parser.parse_args(argv)
    return serve_until_signalled(GkeEmulator(port=args.port, operation_seconds=args.operation_seconds,
                                             state_file=args.state_file))


if __name__ == "__main__":
    sys.exit(main())
