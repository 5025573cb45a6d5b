from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("Registers and provisioning")

    def ready(self) -> None:
        from access import formalities

        # Formalities and gates: the workflow's publication guard, the project page section.
        formalities.register()
        # Opposition register: home panels.
        from access.opposition import panels as opposition_panels

        opposition_panels.register()
        # Provisioning runs, delivery and destruction.
        from access import provisioning

        provisioning.register()
