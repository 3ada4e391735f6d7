import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
GOOD_KEY = "k" * 60
SEPARATE_KEYS = {"API_KEY_PEPPER": "p" * 40, "JWT_SECRET_KEY": "j" * 40, "WEBHOOK_SECRETS_KEY": "w" * 40}


def django_check(**env):
    """Run `manage.py check` in a fresh process so settings are read from `env`."""
    names = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "EVA_ENV", *SEPARATE_KEYS}
    base = {k: v for k, v in os.environ.items() if k not in names}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"DEBUG": "true", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "api.example.com", **SEPARATE_KEYS},
         "DEBUG must be off"),
        ({"ALLOWED_HOSTS": "api.example.com", **SEPARATE_KEYS}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short", "ALLOWED_HOSTS": "api.example.com", **SEPARATE_KEYS}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": GOOD_KEY, **SEPARATE_KEYS}, "ALLOWED_HOSTS must name"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "api.example.com"}, "API_KEY_PEPPER must be set"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "api.example.com", **SEPARATE_KEYS, "API_KEY_PEPPER": GOOD_KEY},
         "API_KEY_PEPPER must be set"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "api.example.com", "API_KEY_PEPPER": "p" * 40},
         "JWT_SECRET_KEY must be set"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "api.example.com", "API_KEY_PEPPER": "p" * 40,
          "JWT_SECRET_KEY": "j" * 40}, "WEBHOOK_SECRETS_KEY must be set"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "api.example.com", **SEPARATE_KEYS, "WEBHOOK_SECRETS_KEY": GOOD_KEY},
         "WEBHOOK_SECRETS_KEY must be set"),
    ],
)
def test_production_refuses_unsafe_settings(env, complaint):
    result = django_check(EVA_ENV="production", **env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_starts_with_safe_settings():
    result = django_check(EVA_ENV="production", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="api.example.com", **SEPARATE_KEYS)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"RATE_LIMIT_TIERS": "free=lots"}, "RATE_LIMIT_TIERS"),
        ({"RATE_LIMIT_TIERS": "pro=60/10"}, "free tier"),
        ({"RATE_LIMIT_UNAUTHENTICATED": "sixty"}, "RATE_LIMIT_UNAUTHENTICATED"),
        ({"TRUSTED_PROXIES": "10.0.0.1,not-an-address"}, "TRUSTED_PROXIES"),
        # Read by the webhook worker only when an attempt fails: it could not record that attempt.
        ({"WEBHOOK_RETRY_SCHEDULE": "0,5,abc"}, "WEBHOOK_RETRY_SCHEDULE"),
        ({"WEBHOOK_RETRY_SCHEDULE": "0,-5,300"}, "WEBHOOK_RETRY_SCHEDULE"),
        ({"WEBHOOK_RETRY_SCHEDULE": "0,nan"}, "WEBHOOK_RETRY_SCHEDULE"),
        ({"WEBHOOK_RETRY_SCHEDULE": "0,1e400"}, "WEBHOOK_RETRY_SCHEDULE"),
        ({"WEBHOOK_RETRY_SCHEDULE": ","}, "WEBHOOK_RETRY_SCHEDULE"),
        ({"WEBHOOK_RETRY_AFTER_MAX_SECONDS": "99999999999999"}, "WEBHOOK_RETRY_AFTER_MAX_SECONDS"),
    ],
)
def test_settings_read_on_first_use_are_checked_at_start_up(env, complaint):
    """A typo stops `manage.py check` (and every server process, which runs the checks when it
    starts), instead of failing the first request that needs the setting."""
    result = django_check(**env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_a_postgres_database_keeps_no_connection_open_between_requests():
    from evaapi.settings import _database_from_url

    database = _database_from_url("postgres://eva:secret@db.example.com:5432/eva")
    # Persistent connections are unsafe under ASGI (Django's advice): the default, 0, closes them.
    assert "CONN_MAX_AGE" not in database
    assert (database["NAME"], database["HOST"], database["PORT"]) == ("eva", "db.example.com", "5432")


def test_the_webhook_retry_schedule_is_read_as_seconds():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                               "print(settings.WEBHOOK_RETRY_SCHEDULE)"],
        cwd=PROJECT_DIR, env={**os.environ, "DJANGO_SETTINGS_MODULE": "evaapi.settings",
                              "WEBHOOK_RETRY_SCHEDULE": " 0, 2.5 ,,60"},
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[0.0, 2.5, 60.0]"
