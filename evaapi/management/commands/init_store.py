from django.core.management.base import BaseCommand, CommandError

from evaapi.store import StoreMismatch, StoreUnavailable, container_specs, store


class Command(BaseCommand):
    help = "Create the store's database and every declared container (idempotent)."

    def handle(self, *args, **options):
        backend = store()
        specs = container_specs()
        try:
            results = backend.init(specs)
        except StoreMismatch as exc:
            raise CommandError(f"store mismatch: {exc}") from exc
        except StoreUnavailable as exc:
            raise CommandError(f"store unavailable: {exc}") from exc
        self.stdout.write(f"store backend: {backend.backend} ({backend.location})")
        for result in results:
            self.stdout.write(f"  {result.outcome:8} {result.name}")
        if not results:
            self.stdout.write("  no containers are declared yet")
