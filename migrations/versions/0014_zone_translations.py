"""Zones: names, descriptions and advice in the service's other languages (``translations``).

``{"ru": {"name": …, "description": …, "advice": …}, …}``; English stays in ``name``,
``description`` and ``advice``. Filled by ``flask seed`` from ``geo/data/zones.i18n.json``.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite adds the column in place (no table copy: the geometry column and its index stay as they are)
    with op.batch_alter_table("zones", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("translations", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("zones", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("translations")
