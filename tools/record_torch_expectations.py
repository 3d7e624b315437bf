"""Record torch's answers to the parity tests' questions in tests/torch_expected/*.json.

Needs torch 2.13.0. Runs the tests (all of tests/, or the pytest arguments given) with
``--record-torch``: every question a test asks its ``oracle`` fixture is answered by live
torch and written, so the tests also pass without torch. Commit the changed files.

    python tools/record_torch_expectations.py                      # every test
    python tools/record_torch_expectations.py tests/test_parity_ops.py -k matmul
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    targets = argv or ["tests", "-m", "not browser"]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--record-torch"]
    return subprocess.run(command + targets, cwd=REPO).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
