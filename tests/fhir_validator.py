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


def validate_many(documents: list[dict[str, Any]], tmp_dir: Path) -> list[dict[str, Any]]:
    """FHIR.js's verdict on each of ``documents``, in one run of Node (one file each)."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "fhir").is_dir():
        pytest.fail("The FHIR validator is missing: install Node.js (apt-get install nodejs npm) "
                    "and run `npm ci` in tests/fhir (scripts/test.sh does both).")
    if not documents:
        return []
    paths = []
    for number, document in enumerate(documents):
        path = tmp_dir / f"fhir-{number}.json"
        path.write_text(json.dumps(document))
        paths.append(str(path))
    done = subprocess.run([node, str(HERE / "validate.js"), *paths],  # nosec B603
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"The FHIR validator failed: {done.stderr}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
