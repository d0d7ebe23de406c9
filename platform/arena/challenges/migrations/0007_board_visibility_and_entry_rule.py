import django.core.validators
from django.db import migrations, models


def entry_rule_from_track(apps, schema_editor):
    """Each phase takes over its track's leaderboard mode ("best" is the best public entry)."""
    Track = apps.get_model("challenges", "Track")
    Phase = apps.get_model("challenges", "Phase")
    for track in Track.objects.all():
        rule = "selected" if track.leaderboard_mode == "selected" else "best_public"
        Phase.objects.filter(track=track).update(entry_rule=rule, max_selected=track.max_selected)


def track_mode_from_phases(apps, schema_editor):
    Track = apps.get_model("challenges", "Track")
    Phase = apps.get_model("challenges", "Phase")
    for track in Track.objects.all():
        phase = Phase.objects.filter(track=track, entry_rule="selected").first()
        if phase is not None:
            Track.objects.filter(pk=track.pk).update(leaderboard_mode="selected", max_selected=phase.max_selected)


class Migration(migrations.Migration):

    dependencies = [
        ('challenges', '0006_licence_per_dataset'),
    ]

    operations = [
        migrations.AddField(
            model_name='phase',
            name='board_visibility',
            field=models.CharField(choices=[('live', 'Live: the public board is shown as entries are scored'), ('hidden', 'Hidden: teams see no scores and no board until the results are revealed'), ('frozen', 'Frozen: the public board stops at the freeze time; later entries appear at the reveal')], default='live', help_text='What teams see before the results are revealed. Organisers always see every board.', max_length=16),
        ),
        migrations.AddField(
            model_name='phase',
            name='entry_rule',
            field=models.CharField(choices=[('best_public', "The team's best entry on the public split"), ('selected', 'The best of the entries the team selects as final'), ('last', "The team's last scored entry"), ('best_hidden', "The team's best entry on the hidden split (hidden board, small total limit)")], default='best_public', help_text='Which entry of each team counts on the private board. "Best on the hidden split" needs a hidden board and a total limit of at most ARENA_BEST_HIDDEN_MAX_TOTAL entries (otherwise teams could fit the hidden split); "best public" needs a public reference.', max_length=16),
        ),
        migrations.AddField(
            model_name='phase',
            name='frozen_at',
            field=models.DateTimeField(blank=True, help_text="Frozen boards only: entries submitted from this time on stay off the public board until the reveal. Between the phase's opening and closing.", null=True),
        ),
        migrations.AddField(
            model_name='phase',
            name='max_selected',
            field=models.PositiveSmallIntegerField(default=1, help_text='Selected entries only: how many a team may select as final.', validators=[django.core.validators.MinValueValidator(1)]),
        ),
        migrations.AddField(
            model_name='phase',
            name='reveal_at_close',
            field=models.BooleanField(default=False, help_text='Reveal the results automatically when the phase closes.'),
        ),
        migrations.AlterField(
            model_name='phase',
            name='private_revealed_at',
            field=models.DateTimeField(blank=True, help_text='When the organisers revealed the results (the private board, and for hidden or frozen boards everything else). Set by the reveal action, or at the close when "reveal at close" is on.', null=True),
        ),
        migrations.AddConstraint(
            model_name='phase',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('board_visibility', 'frozen'), _negated=True), models.Q(('frozen_at__gte', models.F('opens_at')), ('frozen_at__isnull', False), ('frozen_at__lte', models.F('closes_at'))), _connector='OR'), name='phase_frozen_at_within_window', violation_error_message="A frozen board needs a freeze time between the phase's opening and closing."),
        ),
        migrations.AddConstraint(
            model_name='phase',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('entry_rule', 'best_hidden'), _negated=True), ('board_visibility', 'hidden'), _connector='OR'), name='phase_best_hidden_needs_hidden_board', violation_error_message='"Best on the hidden split" needs a hidden board: with scores shown, teams could pick entries by them.'),
        ),
        migrations.RunPython(entry_rule_from_track, track_mode_from_phases),
        migrations.RemoveField(
            model_name='track',
            name='leaderboard_mode',
        ),
        migrations.RemoveField(
            model_name='track',
            name='max_selected',
        ),
    ]
