"""`make manage ARGS="…"` is the one documented way to run the management commands of
docs/authentication.md and docs/operations.md (this test sits beside those commands'
tests, because tests/devservices belongs to the harness)."""

import subprocess
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_make_manage_runs_the_command_through_the_harness_with_shell_quoting():
    # -n: print what make would run, without installing or running anything.
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "manage", 'ARGS=create_tenant "Acme Corp" --tier pro'],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=True,
    )
    assert result.stdout.splitlines()[-1] == (
        '.venv/bin/python -m evaapi.devservices manage create_tenant "Acme Corp" --tier pro'
    )
