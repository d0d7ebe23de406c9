"""Rank every phase's boards again from the scores, and store them with their CSV exports.

Run once after an upgrade that changes how boards or their CSV are written (e.g. the CSV cells that
spreadsheets would run as formulas are neutralised only in boards stored since).
"""

from django.core.management.base import BaseCommand

from arena.challenges.models import Phase
from arena.leaderboards.services import leaderboard_refresh


class Command(BaseCommand):
    help = "Rank and store every phase's leaderboards again (after an upgrade)."

    def handle(self, *args, **options) -> None:
        phases = list(Phase.objects.values_list("pk", flat=True))
        for phase_id in phases:
            leaderboard_refresh(phase_id=phase_id)
        self.stdout.write(f"refreshed the boards of {len(phases)} phase(s)")
