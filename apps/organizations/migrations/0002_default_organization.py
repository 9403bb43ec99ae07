from django.db import migrations


def create_default_organization(apps, schema_editor):
    Organization = apps.get_model("organizations", "Organization")
    Organization.objects.get_or_create(slug="default", defaults={"name": "Default"})


def remove_default_organization(apps, schema_editor):
    Organization = apps.get_model("organizations", "Organization")
    Organization.objects.filter(slug="default", charge_points__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0001_initial"),
        ("chargepoints", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_default_organization, remove_default_organization)
    ]
