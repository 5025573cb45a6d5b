from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EdsPortalConfig(AppConfig):
    name = "eds_portal"
    verbose_name = _("Accounts and audit trail")

    def ready(self) -> None:
        from eds_portal import panels, signals  # noqa: F401  (signals connects receivers)

        panels.register()
