"""The web app: server-rendered pages over the same services as the API and the CLI.

``configure_web(app, settings)`` adds it to the app ``create_app`` builds: signed session
cookies, the count of failed logins, the static files, the pages and their forms, and error
pages for every path that is not the API's.
"""

from __future__ import annotations

from fastapi import FastAPI

from prelabel.settings import Settings
from prelabel.web.errors import install_web_error_handlers
from prelabel.web.login_throttle import install_login_throttle
from prelabel.web.routes import configure_web_routes
from prelabel.web.sessions import install_sessions


def configure_web(app: FastAPI, settings: Settings) -> None:
    """Serve the web pages from ``app``; call after the API's error handlers are installed,
    since the web's handlers defer to them for API paths."""
    install_sessions(app, settings)
    install_login_throttle(app, settings)
    configure_web_routes(app)
    install_web_error_handlers(app)


__all__ = ["configure_web"]
