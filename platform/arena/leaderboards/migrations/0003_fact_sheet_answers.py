from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("leaderboards", "0002_stored_rows"),
    ]

    operations = [
        migrations.AddField(
            model_name="leaderboardentry",
            name="answers",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
