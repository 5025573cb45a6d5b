# Amendments after approval and after delivery (GOV-13): their own status.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0008_independent_votes_interest_withdrawals'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Amendment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(verbose_name='amendment')),
                ('status', models.CharField(choices=[('open', 'Being written'), ('under_review', 'Under review'), ('changes_requested', 'Changes requested'), ('approved', 'Approved'), ('refused', 'Refused'), ('cancelled', 'Cancelled')], default='open', max_length=20, verbose_name='status')),
                ('kept_draft', models.JSONField(blank=True, default=dict)),
                ('opened_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='opened at')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed at')),
                ('base_decision', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='projects.decision', verbose_name='decision amended')),
                ('base_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='projects.protocolversion', verbose_name='version in force')),
                ('decision', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='amendments', to='projects.decision', verbose_name='decision')),
                ('opened_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='amendments', to='projects.project')),
                ('version', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='amendments', to='projects.protocolversion', verbose_name='version submitted')),
            ],
            options={
                'verbose_name': 'amendment',
                'verbose_name_plural': 'amendments',
                'ordering': ['project', '-number'],
                'constraints': [models.UniqueConstraint(fields=('project', 'number'), name='amendment_number_unique'), models.UniqueConstraint(condition=models.Q(('status__in', ['open', 'under_review', 'changes_requested'])), fields=('project',), name='one_pending_amendment_per_project'), models.CheckConstraint(condition=models.Q(('status__in', ['open', 'under_review', 'changes_requested']), ('closed_at__isnull', False), _connector='OR'), name='amendment_closed_at_when_closed'), models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['approved', 'refused']), _negated=True), ('decision__isnull', False), _connector='OR'), name='decided_amendment_has_decision'), models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['under_review', 'approved', 'refused']), _negated=True), ('version__isnull', False), _connector='OR'), name='submitted_amendment_has_version')],
            },
        ),
    ]
