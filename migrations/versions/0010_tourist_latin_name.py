"""Tourists: the passport's Latin-script name (as in its machine-readable zone).

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tourists", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latin_name", sa.String(length=200), nullable=True))


def downgrade():
    # SQLite (>= 3.35) drops the column in place (recreating ``tourists`` would break the tables
    # that reference it)
    with op.batch_alter_table("tourists", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("latin_name")
