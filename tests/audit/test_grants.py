"""Grant snapshots: every change of what a login may declare is recorded with its time."""

import pytest
from django.contrib.auth.models import Group

from audit.models import GrantSnapshot
from consent.context import Channel, access_context
from consent.models import Purpose
from tests import factories

pytestmark = pytest.mark.django_db


def snapshots(user):
    return [
        (s.is_superuser, s.is_reviewer, s.purposes)
        for s in GrantSnapshot.objects.filter(user_id=user.pk).order_by("at", "id")
    ]


def test_joining_and_leaving_groups_is_snapshotted(support_user):
    account = Group.objects.get(name="Account management")
    support_user.groups.add(account)
    support_user.groups.remove(Group.objects.get(name="Support"))
    assert snapshots(support_user) == [
        (False, False, ","),
        (False, False, ",complaints,customer_care,"),
        (False, False, ",complaints,customer_care,licensing,renewal_notices,update_notices,"),
        (False, False, ",licensing,renewal_notices,update_notices,"),
    ]


def test_changing_a_purposes_groups_snapshots_every_member(support_user):
    other = factories.make_staff(email="support2@excelcrm.example", role="Support")
    Purpose.objects.get(code="licensing").groups.add(Group.objects.get(name="Support"))
    for user in (support_user, other):
        assert snapshots(user)[-1][2] == ",complaints,customer_care,licensing,"


def test_deleting_a_group_snapshots_its_former_members(support_user):
    Group.objects.get(name="Support").delete()
    assert snapshots(support_user)[-1] == (False, False, ",")


def test_reviewers_superusers_and_deactivated_logins(reviewer, superuser):
    assert snapshots(reviewer)[-1] == (False, True, ",")
    assert snapshots(superuser)[-1] == (
        True,
        True,
        ",complaints,customer_care,licensing,renewal_notices,update_notices,",
    )
    with access_context(actor=None, channel=Channel.COMMAND):
        superuser.is_active = False
        superuser.save()
    assert snapshots(superuser)[-1] == (False, False, ",")


def test_customers_and_unchanged_saves_add_no_snapshot(customer, support_user):
    before = GrantSnapshot.objects.count()
    with access_context(actor=None, channel=Channel.COMMAND):
        support_user.save()
        customer.user.save()
    assert GrantSnapshot.objects.count() == before
    assert not GrantSnapshot.objects.filter(user_id=customer.user_id).exists()
