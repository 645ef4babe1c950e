from django.apps import AppConfig


class ObservatoireConfig(AppConfig):
    name = "observatoire"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from cil.signals import conference_structure_changed
        from observatoire import cache
        from observatoire.importing.signals import observatoire_data_changed

        # Both are sent after the commit: the cached figures get a new generation.
        conference_structure_changed.connect(_data_changed, dispatch_uid="observatoire.cache")
        observatoire_data_changed.connect(_data_changed, dispatch_uid="observatoire.cache")
        # A safety net for the rows saved one by one outside the services (admin, shell).
        for model in cache.watched_models(deletions=False):
            post_save.connect(_row_changed, sender=model, dispatch_uid="observatoire.cache")
        for model in cache.watched_models(deletions=True):
            post_delete.connect(_row_changed, sender=model, dispatch_uid="observatoire.cache")


def _data_changed(sender, conference_id: int, **kwargs) -> None:
    from observatoire import cache

    cache.bump(conference_id)


def _row_changed(sender, instance, **kwargs) -> None:
    from observatoire import cache

    cache.bump(instance.conference_id)
