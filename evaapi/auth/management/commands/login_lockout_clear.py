import redis
from django.core.management.base import BaseCommand, CommandError

from evaapi.auth.services.login import login_failures_clear


class Command(BaseCommand):
    help = "End a login lockout (API and admin) of a username, from every address, at once."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            removed = login_failures_clear(username=username)
        except redis.RedisError as exc:
            raise CommandError(f"Redis (REDIS_URL) cannot be reached: {exc}") from exc
        self.stdout.write(f"cleared {removed} failure counter(s) of {username}")
