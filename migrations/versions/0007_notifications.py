"""Notifications (push outbox, broadcasts) additions.

Outbox: ``event_key`` (the event a message belongs to: inbox de-duplication and "once per card"
notices), ``expires_at`` (not pushed after), an index for the delivery job's due scan.
Broadcasts: base ``language``, CAP ``category``/``event``, ``instruction``, cancellation.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_key", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_outbox_messages_card_event", ["card_id", "event_key"], unique=False)

    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=35), nullable=False, server_default="en"))
        batch_op.add_column(sa.Column("instruction", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(length=10), nullable=False, server_default="Safety"))
        batch_op.add_column(sa.Column("event", sa.String(length=120), nullable=False,
                                      server_default="Safety warning"))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_by", sa.Integer(), nullable=True))
        batch_op.create_index("ix_broadcasts_expires_at", ["expires_at"], unique=False)


def downgrade():
    # SQLite (>= 3.35) drops these columns in place: recreating a SpatiaLite table that other
    # tables reference would break their foreign keys and its geometry registration.
    with op.batch_alter_table("broadcasts", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_broadcasts_expires_at")
        batch_op.drop_column("cancelled_by")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("event")
        batch_op.drop_column("category")
        batch_op.drop_column("instruction")
        batch_op.drop_column("language")

    with op.batch_alter_table("outbox_messages", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_outbox_messages_card_event")
        batch_op.drop_index("ix_outbox_messages_due")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("event_key")
