"""EVA's settings with bench/apps/report_floor.py's URLs: EVA's own, and the report without GraphQL."""

from evaapi.settings import *  # noqa: F403

ROOT_URLCONF = "bench.apps.report_floor"
