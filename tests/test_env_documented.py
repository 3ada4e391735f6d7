import re
from pathlib import Path

from evaapi.devservices.__main__ import run_settings
from evaapi.env import READ_NAMES
from evaapi.serve import server_settings

ENV_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


def test_every_variable_read_is_documented_and_every_documented_one_is_read():
    run_settings()  # Django's settings are already loaded by pytest-django.
    server_settings()
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert documented == READ_NAMES
