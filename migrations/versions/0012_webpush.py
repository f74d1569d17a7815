"""Web Push for the web companion: the browser subscriptions and the per-channel delivery state.

- ``webpush_subscriptions``: one per device (re-subscribing replaces it), an endpoint held by one
  device at a time.
- ``outbox_deliveries``: a message's state on a channel beside its own FCM state (``webpush``):
  attempts, backoff, sent or dropped, so nothing is sent twice on either.

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webpush_subscriptions",
        sa.Column("device_id", sa.String(length=40), sa.ForeignKey("devices.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("endpoint", sa.String(length=2048), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=False),
        sa.Column("auth", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("endpoint", name="uq_webpush_subscriptions_endpoint"),
    )
    op.create_table(
        "outbox_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("outbox_messages.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("provider_message_id", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("uq_outbox_deliveries_message_channel", "outbox_deliveries", ["message_id", "channel"],
                    unique=True)
    op.create_index("ix_outbox_deliveries_due", "outbox_deliveries", ["status", "next_attempt_at"])


def downgrade():
    op.drop_index("ix_outbox_deliveries_due", table_name="outbox_deliveries")
    op.drop_index("uq_outbox_deliveries_message_channel", table_name="outbox_deliveries")
    op.drop_table("outbox_deliveries")
    op.drop_table("webpush_subscriptions")
