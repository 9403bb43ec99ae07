import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chargepoints", "0004_drop_indexes_led_by_composites"),
        ("organizations", "0003_local_list_auto_sync"),
        ("transactions", "0003_hot_tables_without_fk_checks"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="metervalue",
            name="mv_tx_time",
        ),
        # Only the indexes go: AlterField would also drop and re-add (and so
        # re-check, table by table) every foreign key. The varchar_pattern_ops
        # twins (PostgreSQL) are not brought back by the reverse.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [
                        "DROP INDEX IF EXISTS transactions_transaction_charge_point_id_700e105e;",
                        "DROP INDEX IF EXISTS transactions_transaction_charge_point_id_700e105e_like;",
                        "DROP INDEX IF EXISTS transactions_transaction_organization_id_c4d7ca1b;",
                        "DROP INDEX IF EXISTS transactions_transactionevent_transaction_id_4229dd0f;",
                    ],
                    reverse_sql=[
                        "CREATE INDEX IF NOT EXISTS transactions_transaction_charge_point_id_700e105e ON transactions_transaction (charge_point_id);",
                        "CREATE INDEX IF NOT EXISTS transactions_transaction_organization_id_c4d7ca1b ON transactions_transaction (organization_id);",
                        "CREATE INDEX IF NOT EXISTS transactions_transactionevent_transaction_id_4229dd0f ON transactions_transactionevent (transaction_id);",
                    ],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="transaction",
                    name="charge_point",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transactions",
                        to="chargepoints.chargepoint",
                    ),
                ),
                migrations.AlterField(
                    model_name="transaction",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transactions",
                        to="organizations.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="transactionevent",
                    name="transaction",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="transactions.transaction",
                    ),
                ),
            ],
        ),
    ]
