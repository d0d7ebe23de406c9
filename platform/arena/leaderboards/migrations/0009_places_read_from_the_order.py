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
# Positions follow the order key (the rank key, then the time and id); teams share a competition rank where their
# rank keys are equal: one more than the teams with a smaller rank key (baselines are placed but not ranked). Both
# are counted along one sort of the board's rows. A private row's public rank is the rank of its team's public
# row: the phase's rows are numbered again by team. A filter on the phase reaches every numbering (it is in all
# their partitions), so a board's read numbers its phase's rows only, whatever the planner knows of the table:
# the view joins nothing that could be read again for every row. Statistics computed before the board last
# changed (its snapshot's ``statistics_refreshed_at`` is null) are not shown: neither the column nor the start of
# the API row's head, which the statistics lead.
PLACED = """
SELECT {outer}, n.position, n.rank, n.public_rank,
       CASE WHEN s.statistics_refreshed_at IS NULL THEN NULL ELSE n.statistics END AS statistics,
       CASE WHEN s.statistics_refreshed_at IS NULL AND n.statistics IS NOT NULL
            THEN '{{' || substr(n.row_head, {find}(n.row_head, '"team_name":')) ELSE n.row_head END AS row_head
FROM (
    SELECT r.*, CASE WHEN r.split = 'private' AND NOT r.is_baseline
                     THEN max(CASE WHEN r.split = 'public' THEN r.rank END) OVER (PARTITION BY r.phase_id, r.team_id)
                END AS public_rank
    FROM (
        SELECT {columns}, statistics, row_head,
               row_number() OVER (PARTITION BY phase_id, split ORDER BY rank_key, order_key) AS position,
               CASE WHEN is_baseline THEN NULL
                    ELSE 1 + count(*) FILTER (WHERE NOT is_baseline) OVER (PARTITION BY phase_id, split ORDER BY rank_key)
                         - count(*) FILTER (WHERE NOT is_baseline) OVER (PARTITION BY phase_id, split, rank_key)
               END AS rank
        FROM {table}) AS r) AS n
LEFT JOIN {snapshots} AS s ON s.phase_id = n.phase_id AND s.split = n.split
"""


def _placed(connection) -> str:
    find = "strpos" if connection.vendor == "postgresql" else "instr"
    outer = ", ".join(f"n.{column}" for column in COLUMNS.split(", "))
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
