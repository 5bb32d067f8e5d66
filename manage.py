#!/usr/bin/env python
import sys

from kangle.cli import manage

if __name__ == "__main__":
    raise SystemExit(manage(sys.argv[1:]))
