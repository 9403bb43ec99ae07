import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from apps.organizations.models import Membership, Organization

pytestmark = [
    pytest.mark.django_db,
    # Fast hashing: these tests check passwords, not the hasher.
    pytest.mark.usefixtures("fast_hasher"),
]

PASSWORD_LINE = re.compile(r"^    (\S+)$", re.MULTILINE)


@pytest.fixture
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def bootstrap(*args: str) -> str:
    out = io.StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


@override_settings(ADMIN_USERNAME="", ADMIN_PASSWORD="")
def test_bootstrap_creates_admin_once_and_prints_the_password_once():
    # when
    first = bootstrap()
    second = bootstrap()

    # then
    User = get_user_model()
    admin = User.objects.get(username="admin")
    password = PASSWORD_LINE.search(first).group(1)
    assert "Created superuser 'admin' with password:" in first
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(password)
    assert password not in second
    assert "password" not in second
    assert User.objects.filter(is_superuser=True).count() == 1
    membership = Membership.objects.get(user=admin)
    assert membership.organization.slug == "default"
    assert membership.role == Membership.Role.OWNER


@override_settings(ADMIN_USERNAME="", ADMIN_PASSWORD="")
def test_bootstrap_leaves_an_existing_superuser_alone():
    # given
    User = get_user_model()
    User.objects.create_superuser(username="root", email="", password="kept-secret")

    # when
    out = bootstrap("--skip-migrate", "--skip-static")

    # then
    assert "password" not in out
    assert not User.objects.filter(username="admin").exists()
    assert User.objects.get(username="root").check_password("kept-secret")


def test_bootstrap_ensures_the_default_organization():
    # given
    Organization.objects.filter(slug="default").delete()

    # when
    with override_settings(ADMIN_USERNAME="", ADMIN_PASSWORD=""):
        bootstrap("--skip-migrate", "--skip-static")
        bootstrap("--skip-migrate", "--skip-static")

    # then
    assert Organization.objects.filter(slug="default").count() == 1


def test_bootstrap_uses_the_configured_admin_and_is_idempotent():
    # given
    User = get_user_model()
    with override_settings(ADMIN_USERNAME="ops", ADMIN_PASSWORD="first-Pass-123"):
        first = bootstrap("--skip-migrate", "--skip-static")
        second = bootstrap("--skip-migrate", "--skip-static")
    # when: the password setting changes
    with override_settings(ADMIN_USERNAME="ops", ADMIN_PASSWORD="second-Pass-456"):
        bootstrap("--skip-migrate", "--skip-static")

    # then
    ops = User.objects.get(username="ops")
    assert "Created superuser 'ops'." in first
    assert "Created" not in second
    assert "first-Pass-123" not in first
    assert ops.is_superuser and ops.is_staff and ops.is_active
    assert ops.check_password("second-Pass-456")
    assert not User.objects.filter(username="admin").exists()
    assert (
        Membership.objects.filter(
            user=ops, organization__slug="default", role=Membership.Role.OWNER
        ).count()
        == 1
    )


def test_bootstrap_promotes_an_existing_user_named_by_the_settings():
    # given
    User = get_user_model()
    User.objects.create_user(username="ops", password="old")

    # when
    with override_settings(ADMIN_USERNAME="ops", ADMIN_PASSWORD="new-Pass-789"):
        bootstrap("--skip-migrate", "--skip-static")

    # then
    ops = User.objects.get(username="ops")
    assert ops.is_superuser and ops.is_staff
    assert ops.check_password("new-Pass-789")


def test_bootstrap_refuses_half_a_configuration():
    with (
        override_settings(ADMIN_USERNAME="ops", ADMIN_PASSWORD=""),
        pytest.raises(CommandError, match="both"),
    ):
        bootstrap("--skip-migrate", "--skip-static")
