"""The admin console: a static single-page app at ``/admin`` that calls ``/graphql`` with the
bearer token the admin signs in with. The page and its assets are public; every data call is not.
"""

from gateway.console.routes import PREFIX, console_mount, is_console_path

__all__ = ["PREFIX", "console_mount", "is_console_path"]
