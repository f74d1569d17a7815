"""The 191 center for a whole shift: units, zone mutes, who moved each incident along.

- ``units``: the police, hospital, rescue and maritime units the center dispatches, with an
  optional base position (nearest first in the dispatch dialog).
- ``incidents.unit_id`` (a listed unit) beside the free-text ``unit``; ``acknowledged_by``,
  ``dispatched_by``, ``resolved_by`` (staff usernames) beside the existing ``*_at`` stamps.
- ``zone_mutes``: a zone's danger-zone alerts silenced until a time, kept as a record after
  they end.
- ``ix_incidents_created_id``: the list's keyset (created_at, id), newest first.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("agency", sa.String(length=24), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("base_lat", sa.Float(), nullable=True),
        sa.Column("base_lon", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_units_name"),
    )
    op.create_index("ix_units_agency", "units", ["agency"])
    op.create_table(
        "zone_mutes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("zone_id", sa.Integer(), sa.ForeignKey("zones.id", ondelete="CASCADE"), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=80), nullable=True),
    )
    op.create_index("ix_zone_mutes_zone_until", "zone_mutes", ["zone_id", "until"])
    op.create_index("ix_zone_mutes_until", "zone_mutes", ["until"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite adds the columns in place (recreating ``incidents`` would break the tables that
    # reference it) and cannot add a constraint to a table: there ``unit_id`` is a plain column
    # (units are never deleted by the application); PostgreSQL gets the foreign key
    unit_id = (sa.Column("unit_id", sa.Integer(), nullable=True) if sqlite else
               sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", ondelete="SET NULL",
                                                                 name="fk_incidents_unit_id"), nullable=True))
    with op.batch_alter_table("incidents", schema=None, recreate="never" if sqlite else "auto") as batch_op:
        batch_op.add_column(unit_id)
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("dispatched_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=80), nullable=True))
    op.create_index("ix_incidents_created_id", "incidents", ["created_at", "id"])


def downgrade():
    op.drop_index("ix_incidents_created_id", table_name="incidents")
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("incidents", schema=None, recreate="never" if sqlite else "auto") as batch_op:
        if not sqlite:
            batch_op.drop_constraint("fk_incidents_unit_id", type_="foreignkey")
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("dispatched_by")
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("unit_id")
    op.drop_index("ix_zone_mutes_until", table_name="zone_mutes")
    op.drop_index("ix_zone_mutes_zone_until", table_name="zone_mutes")
    op.drop_table("zone_mutes")
    op.drop_index("ix_units_agency", table_name="units")
    op.drop_table("units")
