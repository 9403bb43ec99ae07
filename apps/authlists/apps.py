from django.apps import AppConfig


class AuthListsConfig(AppConfig):
    name = "apps.authlists"
    label = "authlists"
    verbose_name = "Local authorization lists"
