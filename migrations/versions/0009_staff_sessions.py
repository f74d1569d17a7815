"""Staff sessions die with their right to exist: ``users.token_version``.

Every staff access token carries the account's ``token_version`` (claim ``ver``); deactivating
an account increments it, so the tokens issued before stay refused even after the account is
activated again, and every Socket.IO process's session sweep disconnects their sockets.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    # SQLite (>= 3.35) drops the column in place (recreating ``users`` would break the tables
    # that reference it)
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("token_version")
