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
        # Its e-mails (receipts, answers), written when sent from the vault's address.
        from access.opposition import mail as opposition_mail

        opposition_mail.register()
        # Provisioning runs, delivery and destruction.
        from access import provisioning

        provisioning.register()
        # Output requests, their checking and release.
        from access import outputs

        outputs.register()
