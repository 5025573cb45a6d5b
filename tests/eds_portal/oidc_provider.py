"""The tests' OpenID Connect provider: the same small, real provider the demo serves
(``eds_portal.demo_oidc``), started on a free local port by each test that needs it."""

from eds_portal.demo_oidc import MiniProvider

__all__ = ["MiniProvider"]
