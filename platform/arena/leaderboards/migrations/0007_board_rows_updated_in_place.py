from django.db import migrations

TABLE = "leaderboards_leaderboardentry"


def _fillfactor(value: int):
    def run(apps, schema_editor):
        # PostgreSQL: room left in each page, so a row a re-ranking rewrites stays in its page (a heap-only
        # update, no index entry added). Pages written from now on keep it; older ones as they are rewritten.
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = {value})")
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("leaderboards", "0006_incremental_ranking"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="leaderboardentry",
            name="leaderboard_phase_i_8d3d7f_idx",
        ),
        migrations.RunPython(_fillfactor(70), _fillfactor(100), elidable=True),
    ]
