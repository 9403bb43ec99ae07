"""``manage.py bootstrap``: make a fresh install usable; safe to run every start.

1. Apply migrations; collect static files (served by WhiteNoise).
2. Ensure the default organization (``CSMS_DEFAULT_ORGANIZATION``, slug
   ``default`` unless set; stations without an organization in their URL go there).
3. Ensure the admin superuser: ``CSMS_ADMIN_USERNAME``/``CSMS_ADMIN_PASSWORD``
   when set (created, or promoted and given that password); otherwise, only if
   no superuser exists yet, ``admin`` with a generated password that is printed
   this once and never stored in clear.
4. Make that superuser an owner of the default organization.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.organizations.models import Membership, Organization

DEFAULT_ADMIN_USERNAME = "admin"


def ensure_default_organization() -> Organization:
    slug = getattr(settings, "OCPP_DEFAULT_ORGANIZATION", "default")
    organization, _ = Organization.objects.get_or_create(
        slug=slug, defaults={"name": slug.replace("-", " ").title()}
    )
    return organization


def ensure_configured_admin(*, username: str, password: str):
    """The superuser named by the settings, with that password. Returns the user."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        **{User.USERNAME_FIELD: username},
        defaults={"is_staff": True, "is_superuser": True, "is_active": True},
    )
    changed = []
    for flag in ("is_staff", "is_superuser", "is_active"):
        if not getattr(user, flag):
            setattr(user, flag, True)
            changed.append(flag)
    if created or not user.check_password(password):
        user.set_password(password)
        changed.append("password")
    if changed:
        user.save()
    return user, created


def ensure_generated_admin():
    """``admin`` with a new password if no superuser exists: (user, password)."""
    User = get_user_model()
    if User.objects.filter(is_superuser=True).exists():
        return None, None
    password = secrets.token_urlsafe(18)
    user = User.objects.create_superuser(
        **{User.USERNAME_FIELD: DEFAULT_ADMIN_USERNAME}, email="", password=password
    )
    return user, password


class Command(BaseCommand):
    help = "Migrate, ensure the default organization and an admin superuser."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--skip-migrate", action="store_true", help="Do not run migrate first."
        )
        parser.add_argument(
            "--skip-static", action="store_true", help="Do not run collectstatic."
        )

    def handle(self, *args, **options) -> None:
        verbosity = options["verbosity"]
        if not options["skip_migrate"]:
            call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        if not options["skip_static"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        username, password = settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD
        if bool(username) != bool(password):
            raise CommandError(
                "Set both CSMS_ADMIN_USERNAME and CSMS_ADMIN_PASSWORD, or neither."
            )
        generated = None
        with transaction.atomic():
            organization = ensure_default_organization()
            if username:
                user, created = ensure_configured_admin(
                    username=username, password=password
                )
                if created:
                    self.stdout.write(f"Created superuser {username!r}.")
            else:
                user, generated = ensure_generated_admin()
            if user is not None:
                Membership.objects.update_or_create(
                    user=user,
                    organization=organization,
                    defaults={"role": Membership.Role.OWNER},
                )
        if generated:
            self._announce(user.get_username(), generated)
        if verbosity >= 1:
            self.stdout.write("Bootstrap done.")

    def _announce(self, username: str, password: str) -> None:
        line = "=" * 64
        self.stdout.write(
            f"{line}\n"
            f"Created superuser {username!r} with password:\n\n"
            f"    {password}\n\n"
            "It is shown this once only. Log in at /admin/ and change it, or set\n"
            "CSMS_ADMIN_USERNAME and CSMS_ADMIN_PASSWORD before bootstrap.\n"
            f"{line}"
        )
