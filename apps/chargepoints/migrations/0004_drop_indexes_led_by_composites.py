import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chargepoints", "0003_configuration_device_model"),
        ("organizations", "0003_local_list_auto_sync"),
    ]

    operations = [
        # Only the indexes go: AlterField would also drop and re-add (and so
        # re-check, table by table) every foreign key. The varchar_pattern_ops
        # twins (PostgreSQL) are not brought back by the reverse.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [
                        "DROP INDEX IF EXISTS chargepoints_chargepoint_organization_id_c06fca8c;",
                        "DROP INDEX IF EXISTS chargepoints_connector_evse_id_0116d5f4;",
                        "DROP INDEX IF EXISTS chargepoints_evse_charge_point_id_ce807999;",
                        "DROP INDEX IF EXISTS chargepoints_evse_charge_point_id_ce807999_like;",
                        "DROP INDEX IF EXISTS chargepoints_statuschange_charge_point_id_0c60d496;",
                        "DROP INDEX IF EXISTS chargepoints_statuschange_charge_point_id_0c60d496_like;",
                    ],
                    reverse_sql=[
                        "CREATE INDEX IF NOT EXISTS chargepoints_chargepoint_organization_id_c06fca8c ON chargepoints_chargepoint (organization_id);",
                        "CREATE INDEX IF NOT EXISTS chargepoints_connector_evse_id_0116d5f4 ON chargepoints_connector (evse_id);",
                        "CREATE INDEX IF NOT EXISTS chargepoints_evse_charge_point_id_ce807999 ON chargepoints_evse (charge_point_id);",
                        "CREATE INDEX IF NOT EXISTS chargepoints_statuschange_charge_point_id_0c60d496 ON chargepoints_statuschange (charge_point_id);",
                    ],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="chargepoint",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="charge_points",
                        to="organizations.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="connector",
                    name="evse",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="connectors",
                        to="chargepoints.evse",
                    ),
                ),
                migrations.AlterField(
                    model_name="evse",
                    name="charge_point",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="evses",
                        to="chargepoints.chargepoint",
                    ),
                ),
                migrations.AlterField(
                    model_name="statuschange",
                    name="charge_point",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="status_changes",
                        to="chargepoints.chargepoint",
                    ),
                ),
            ],
        ),
    ]
