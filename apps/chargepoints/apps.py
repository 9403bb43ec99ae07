from django.apps import AppConfig


class ChargepointsConfig(AppConfig):
    name = "apps.chargepoints"
    label = "chargepoints"
    verbose_name = "Charging stations"
