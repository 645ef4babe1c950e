from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "cil.governance"
    label = "governance"
    verbose_name = "Instances de la conférence"
