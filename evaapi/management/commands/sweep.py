import time

from django.conf import settings
from django.core.management.base import BaseCommand

from evaapi.sweeper import sweeps_run


class Command(BaseCommand):
    help = "Finish what crashes left undone (events in outboxes, stuck documents, purges); loops until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args, once, **options):
        while True:
            results = sweeps_run()
            if once:
                self.stdout.write(", ".join(f"{name}: {fixed}" for name, fixed in results.items()))
                return
            time.sleep(settings.SWEEP_INTERVAL_SECONDS)
