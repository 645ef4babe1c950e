from django.apps import AppConfig


class ObservatoireConfig(AppConfig):
    name = "observatoire"
