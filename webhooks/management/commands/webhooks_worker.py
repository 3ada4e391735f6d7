import asyncio
import signal

from django.core.management.base import BaseCommand

from webhooks.worker import worker_run


class Command(BaseCommand):
    help = "Deliver webhooks: many attempts at once from one process, until SIGINT or SIGTERM."

    def handle(self, *args, **options):
        asyncio.run(self._run())

    async def _run(self):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await worker_run(stop)
