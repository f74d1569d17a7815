"""Staff accounts, roles, sign-in and access tokens."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register sign-in, staff accounts, the audit log's API, the domain's errors and the ``users`` CLI."""
    from backend.auth.cli import users_cli
    from backend.auth.service import LoginThrottled
    from backend.auth.views import audit_blp, blp, users_blp
    from backend.extensions import api
    from backend.web.transactions import retry_after, translate

    translate(app, LoginThrottled, 429, headers=retry_after)
    api.register_blueprint(blp)
    api.register_blueprint(users_blp)
    api.register_blueprint(audit_blp)
    app.cli.add_command(users_cli)
