from django.apps import AppConfig


class CilConfig(AppConfig):
    name = "cil"
    verbose_name = "Conférence"

    def ready(self):
        # Stamps the login time on `user_logged_in`, for the session timeouts.
        from cil import middleware_timeouts  # noqa: F401
