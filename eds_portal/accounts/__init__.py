"""Accounts and identity: accounts created from invitations, password reset and change, e-mail
change with confirmation, the confidentiality charter (SEC-05)."""
