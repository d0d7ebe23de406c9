from django.core.management.base import BaseCommand

from arena.demo.services import demo_load


class Command(BaseCommand):
    help = "Load the demo challenges, accounts, data and scored entries (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--no-submissions", action="store_true", help="Skip the scored demo entries.")

    def handle(self, *args, no_submissions: bool = False, **options):
        summary = demo_load(with_submissions=not no_submissions)
        self.stdout.write(f"Demo loaded: {len(summary.created)} new object(s).")
        self.stdout.write("Demo accounts: " + ", ".join(summary.users))
