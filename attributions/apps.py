from django.apps import AppConfig


class AttributionsConfig(AppConfig):
    name = "attributions"
    verbose_name = "Attributions et bilan"

    def ready(self) -> None:
        from cil.signals import conference_structure_changed

        conference_structure_changed.connect(_structure_changed, dispatch_uid="attributions.bilan")


def _structure_changed(sender, conference_id: int, **kwargs) -> None:
    """Communes, QPV or members changed: every stored bilan of the conference is stale."""
    from attributions import bilan_cache

    bilan_cache.invalidate_all(conference_id=conference_id)
