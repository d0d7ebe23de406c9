from django.db import migrations, models

BATCH = 2000


def _strip_places(apps, schema_editor):
    """Each stored row loses its place (rank, public rank, position), which reads now add from the columns."""
    Entry = apps.get_model("leaderboards", "LeaderboardEntry")
    rows = Entry.objects.using(schema_editor.connection.alias).only("pk", "row_head").order_by("pk")
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:BATCH]):
        for entry in batch:
            entry.row_head = entry.row_head[:entry.row_head.rindex(',"rank":')]
        Entry.objects.using(schema_editor.connection.alias).bulk_update(batch, ["row_head"])
        last = batch[-1].pk


def _add_places(apps, schema_editor):
    Entry = apps.get_model("leaderboards", "LeaderboardEntry")
    rows = Entry.objects.using(schema_editor.connection.alias).only(
        "pk", "row_head", "rank", "public_rank", "position").order_by("pk")
    last = 0

    def number(value):
        return "null" if value is None else str(value)

    while batch := list(rows.filter(pk__gt=last)[:BATCH]):
        for entry in batch:
            entry.row_head += (f',"rank":{number(entry.rank)},"public_rank":{number(entry.public_rank)},'
                               f'"position":{entry.position}}}')
        Entry.objects.using(schema_editor.connection.alias).bulk_update(batch, ["row_head"])
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("leaderboards", "0007_board_rows_updated_in_place"),
    ]

    operations = [
        migrations.RenameField(model_name="leaderboardentry", old_name="row_json", new_name="row_head"),
        migrations.AlterField(model_name="leaderboardentry", name="row_head", field=models.TextField()),
        migrations.RunPython(_strip_places, _add_places),
    ]
