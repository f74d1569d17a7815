"""Companion app (devices, enrollment) additions.

Nothing to add: the foundation schema (0001) already holds what the mobile API needs — devices
(unique osmand_id, token_hash, revoked_at), pings (unique per card and client id) and
sos_signals (unique per card and client id). Kept in the chain as a no-op on both databases.

Revision ID: 0004
Revises: 0003
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    pass  # see the module docstring


def downgrade():
    pass
