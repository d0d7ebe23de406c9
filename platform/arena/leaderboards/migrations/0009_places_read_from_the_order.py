"""An entry's place (position, rank, public rank) is no longer stored: the view ``leaderboards_board`` numbers each
board's rows in the order of their keys when they are read. Moving one entry then writes that entry only.

The table keeps its name under the model ``StoredEntry``; ``LeaderboardEntry`` becomes the view. Going back
stores every entry's place as the view numbers it, then drops the view.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "leaderboards_leaderboardentry"
VIEW = "leaderboards_board"
SNAPSHOTS = "leaderboards_leaderboardsnapshot"
COLUMNS = ("id, phase_id, split, submission_id, team_id, is_baseline, score, metrics, conditions, team_name, "
           "method_name, submitted_at, entries_count, answers, rank_key, order_key")
# Positions follow the order key; teams share a competition rank where their rank keys are equal (baselines are
# placed but not ranked); a private row's public rank is its team's rank on the public board. A filter on the
# phase and split reaches each numbering (they are its partitions), so a board's read numbers that board only.
# Statistics computed before the board last changed (its snapshot's ``statistics_refreshed_at`` is null) are
# not shown: neither the column nor the start of the API row's head, which the statistics lead.
PLACED = """
SELECT {outer}, b.position, b.rank, pub.rank AS public_rank,
       CASE WHEN s.statistics_refreshed_at IS NULL THEN NULL ELSE b.statistics END AS statistics,
       CASE WHEN s.statistics_refreshed_at IS NULL AND b.statistics IS NOT NULL
            THEN '{{' || substr(b.row_head, {find}(b.row_head, '"team_name":')) ELSE b.row_head END AS row_head
FROM (
    SELECT {columns}, statistics, row_head,
           row_number() OVER (PARTITION BY phase_id, split ORDER BY order_key) AS position,
           CASE WHEN is_baseline THEN NULL
                ELSE rank() OVER (PARTITION BY phase_id, split, is_baseline ORDER BY rank_key) END AS rank
    FROM {table}) AS b
LEFT JOIN {snapshots} AS s ON s.phase_id = b.phase_id AND s.split = b.split
LEFT JOIN (
    SELECT phase_id, team_id, rank() OVER (PARTITION BY phase_id ORDER BY rank_key) AS rank
    FROM {table} WHERE split = 'public' AND NOT is_baseline) AS pub
ON b.split = 'private' AND NOT b.is_baseline AND pub.phase_id = b.phase_id AND pub.team_id = b.team_id
"""


def _placed(connection) -> str:
    find = "strpos" if connection.vendor == "postgresql" else "instr"
    outer = ", ".join(f"b.{column}" for column in COLUMNS.split(", "))
    return PLACED.format(columns=COLUMNS, outer=outer, table=TABLE, snapshots=SNAPSHOTS, find=find)


def _create_view(apps, schema_editor):
    schema_editor.execute(f"CREATE VIEW {VIEW} AS {_placed(schema_editor.connection)}")


def _drop_view(apps, schema_editor):
    schema_editor.execute(f"DROP VIEW {VIEW}")


def _store_places(apps, schema_editor):
    """Going back: every entry's place as the view numbered it, stored in its columns again."""
    schema_editor.execute(
        f"UPDATE {TABLE} SET position = placed.position, rank = placed.rank, public_rank = placed.public_rank "
        f"FROM ({_placed(schema_editor.connection)}) AS placed WHERE placed.id = {TABLE}.id")


class Migration(migrations.Migration):

    dependencies = [
        ("challenges", "0010_track_board_statistics"),
        ("leaderboards", "0008_entry_row_head"),
        ("submissions", "0006_score_conditions"),
        ("teams", "0002_membership_announcement_emails"),
    ]

    operations = [
        # The table keeps its name under its new model's.
        migrations.AlterModelTable(name="leaderboardentry", table=TABLE),
        migrations.RenameModel(old_name="LeaderboardEntry", new_name="StoredEntry"),
        migrations.AlterModelOptions(name="storedentry", options={}),
        migrations.AlterField(model_name="storedentry", name="position", field=models.PositiveIntegerField(null=True)),
        migrations.RunPython(migrations.RunPython.noop, _store_places),
        migrations.RemoveField(model_name="storedentry", name="position"),
        migrations.RemoveField(model_name="storedentry", name="rank"),
        migrations.RemoveField(model_name="storedentry", name="public_rank"),
        migrations.RunPython(_create_view, _drop_view),
        migrations.CreateModel(
            name="LeaderboardEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("split", models.CharField(max_length=16)),
                ("is_baseline", models.BooleanField(default=False)),
                ("score", models.FloatField()),
                ("metrics", models.JSONField(default=dict)),
                ("conditions", models.JSONField(blank=True, default=dict)),
                ("team_name", models.CharField(blank=True, max_length=100)),
                ("method_name", models.CharField(blank=True, max_length=100)),
                ("submitted_at", models.DateTimeField()),
                ("entries_count", models.PositiveIntegerField(default=0, help_text="Scored submissions of the team.")),
                ("answers", models.JSONField(blank=True, default=dict)),
                ("statistics", models.JSONField(blank=True, null=True)),
                ("row_head", models.TextField()),
                ("rank_key", models.BinaryField(default=b"")),
                ("order_key", models.BinaryField(default=b"")),
                ("rank", models.PositiveIntegerField(blank=True, null=True)),
                ("public_rank", models.PositiveIntegerField(blank=True, null=True)),
                ("position", models.PositiveIntegerField()),
                ("phase", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING,
                                            related_name="+", to="challenges.phase")),
                ("submission", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING,
                                                 related_name="+", to="submissions.submission")),
                ("team", models.ForeignKey(blank=True, db_constraint=False, null=True,
                                           on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                                           to="teams.team")),
            ],
            options={"db_table": VIEW, "ordering": ["phase", "split", "position"], "managed": False},
        ),
    ]
