import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('challenges', '0008_announcement'),
        ('submissions', '0004_refused_uploads'),
    ]

    operations = [
        migrations.CreateModel(
            name='Question',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.SlugField(help_text='How scripts name the answer, e.g. external_data (the CLI: --answer external_data=yes).')),
                ('text', models.CharField(max_length=300)),
                ('help', models.CharField(blank=True, max_length=300)),
                ('kind', models.CharField(choices=[('text', 'Text'), ('url', 'URL'), ('yes_no', 'Yes or no'), ('choice', 'One of a list')], default='text', max_length=16)),
                ('choices', models.TextField(blank=True, help_text='"One of a list" only: the allowed answers, one per line.')),
                ('required', models.BooleanField(default=True)),
                ('on_leaderboard', models.BooleanField(default=False, help_text='Show the answer as a leaderboard column.')),
                ('order', models.PositiveSmallIntegerField(default=0)),
                ('phase', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='questions', to='challenges.phase')),
            ],
            options={
                'ordering': ['phase', 'order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Answer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value', models.CharField(blank=True, max_length=2000)),
                ('submission', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='answers', to='submissions.submission')),
                ('question', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='answers', to='factsheets.question')),
            ],
            options={
                'ordering': ['submission', 'question__order', 'question_id'],
            },
        ),
        migrations.AddConstraint(
            model_name='question',
            constraint=models.UniqueConstraint(fields=('phase', 'key'), name='question_key_unique'),
        ),
        migrations.AddConstraint(
            model_name='answer',
            constraint=models.UniqueConstraint(fields=('submission', 'question'), name='one_answer_per_question'),
        ),
    ]
