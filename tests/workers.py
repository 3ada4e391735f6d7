"""A real rq worker, run to the end of its queues, seeing the store the test sees."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]


def rq_burst(env: dict[str, str], *queues: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "rqworker", "--burst", *(queues or ("documents", "default"))],
        cwd=PROJECT_DIR, env={**os.environ, **env}, check=True, capture_output=True, text=True, timeout=300,
    )
