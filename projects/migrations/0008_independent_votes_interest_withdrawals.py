# Independent votes (the chair closes the vote; a decision without a vote states why) and
# withdrawals of declared interests, answered by the secretariat.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0007_sessions_convocation_deferral'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='agendaitem',
            name='vote_closed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='agendaitem',
            name='vote_closed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='agendaitem',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('vote_closed_at__isnull', True), ('vote_closed_by__isnull', True)), models.Q(('vote_closed_at__isnull', False), ('vote_closed_by__isnull', False)), _connector='OR'), name='agenda_item_vote_closed_pair'),
        ),
        migrations.AddField(
            model_name='decision',
            name='no_vote_reason',
            field=models.TextField(blank=True, verbose_name='why the commission decided without a vote'),
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.CheckConstraint(condition=models.Q(('no_vote_reason', ''), ('agenda_item__isnull', False), _connector='OR'), name='decision_no_vote_reason_in_session'),
        ),
        migrations.CreateModel(
            name='InterestWithdrawal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('interest', models.TextField(verbose_name='interest declared')),
                ('reason', models.TextField(verbose_name='why the interest no longer stands')),
                ('status', models.CharField(choices=[('pending', 'Awaiting the secretariat'), ('accepted', 'Accepted'), ('refused', 'Refused')], default='pending', max_length=10, verbose_name='status')),
                ('requested_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='requested at')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='answered at')),
                ('answer', models.TextField(blank=True, verbose_name='answer of the secretariat')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='interest_withdrawals', to='projects.project')),
            ],
            options={
                'verbose_name': 'withdrawal of a declared interest',
                'verbose_name_plural': 'withdrawals of declared interests',
                'ordering': ['-requested_at', '-pk'],
                'constraints': [
                    models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('project', 'member'), name='one_pending_withdrawal'),
                    models.CheckConstraint(condition=models.Q(models.Q(('decided_at__isnull', True), ('decided_by__isnull', True), ('status', 'pending')), models.Q(models.Q(('status', 'pending'), _negated=True), ('decided_at__isnull', False), ('decided_by__isnull', False)), _connector='OR'), name='withdrawal_answered_pair'),
                    models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='withdrawal_is_reasoned'),
                    models.CheckConstraint(condition=models.Q(models.Q(('status', 'refused'), _negated=True), models.Q(('answer', ''), _negated=True), _connector='OR'), name='withdrawal_refusal_is_reasoned'),
                ],
            },
        ),
    ]
