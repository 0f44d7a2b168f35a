"""An independent check of FHIR R4 JSON: FHIR.js (npm "fhir", pinned in tests/fhir/package-lock.json)
run by Node. scripts/test.sh installs it; a missing Node or validator fails the test with what
to install, never skips it."""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404: runs our own validator script with a fixed argument list
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent / "fhir"


def validate(resource: dict[str, Any]) -> dict[str, Any]:
    """{"valid": bool, "messages": [...]} from FHIR.js for ``resource``."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "fhir").is_dir():
        pytest.fail("The FHIR validator is missing: install Node.js (apt-get install nodejs npm) "
                    "and run `npm ci` in tests/fhir (scripts/test.sh does both).")
    done = subprocess.run([node, str(HERE / "validate.js")], input=json.dumps(resource),  # nosec B603
                          capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        pytest.fail(f"The FHIR validator failed: {done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result
