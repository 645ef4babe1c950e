from django.apps import AppConfig


class CilConfig(AppConfig):
    name = "cil"
    verbose_name = "Conférence"
