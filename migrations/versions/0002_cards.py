"""Cards: the issued token stored on the card, and when its enrollment code was issued.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("enrollment_code_issued_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_column("enrollment_code_issued_at")
        batch_op.drop_column("token")
