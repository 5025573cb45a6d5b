from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EdsPortalConfig(AppConfig):
    name = "eds_portal"
    verbose_name = _("Accounts and audit trail")

    def ready(self) -> None:
        from eds_portal import mail, panels, signals  # noqa: F401  (signals connects receivers)
        from eds_portal.accounts import actions as accounts
        from eds_portal.accounts import gate  # noqa: F401  (connects the charter receiver)

        panels.register()
        # The kinds of e-mail the foundation sends (notifications, the audit alert).
        mail.register()
        accounts.register_mail()
