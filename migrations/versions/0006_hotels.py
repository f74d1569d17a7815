"""Hotels and stays additions: hotel update time, why a stay ended, open-stays index.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_OPEN = "checked_out_at IS NULL"


def upgrade():
    # plain ADD COLUMN on both databases (no table rebuild: the hotels table holds a geometry)
    with op.batch_alter_table("hotels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.add_column(sa.Column("end_reason", sa.String(length=24), nullable=True))
        batch_op.create_index("ix_stays_open_hotel", ["hotel_id"], unique=False,
                              sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))
    # stays closed before this revision were ended by a check-out
    op.execute("UPDATE stays SET end_reason = 'checked_out' WHERE checked_out_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.drop_index("ix_stays_open_hotel", sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))
        batch_op.drop_column("end_reason")
    # ALTER TABLE … DROP COLUMN in place (SQLite ≥ 3.35): a batch rebuild would lose the geometry setup
    op.drop_column("hotels", "updated_at")
