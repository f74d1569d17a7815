"""Staff accounts, roles, sign-in and access tokens."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register sign-in, staff accounts, the audit log's API and the ``users`` CLI."""
    from backend.auth.cli import users_cli
    from backend.auth.views import audit_blp, blp, users_blp
    from backend.extensions import api

    api.register_blueprint(blp)
    api.register_blueprint(users_blp)
    api.register_blueprint(audit_blp)
    app.cli.add_command(users_cli)
