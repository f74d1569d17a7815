"""Marine tourism safety: operators, trips and their manifests, sea-condition stations and warnings.

- ``marine_operators``; ``users.operator_id`` binds a ``marine_operator`` account to one.
- ``marine_trips`` (a boat's outing, its last known position, when its overdue was raised) and
  ``marine_passengers`` (the manifest: cards scanned aboard and ashore, each one's last fix).
- ``marine_stations`` (only a hash of each station's token), ``marine_observations`` and
  ``marine_warnings`` (one open warning per station).
- ``incidents.trip_id`` (boat_overdue, passenger_unaccounted) and ``incidents.kind`` wide enough
  for ``passenger_unaccounted`` (PostgreSQL; SQLite does not enforce the length).

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ABOARD = "ashore_at IS NULL"
_OPEN = "ended_at IS NULL"


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "marine_operators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("licence", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "marine_trips",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("marine_operators.id"), nullable=False),
        sa.Column("vessel_name", sa.String(length=120), nullable=False),
        sa.Column("vessel_registration", sa.String(length=40), nullable=False),
        sa.Column("pier", sa.String(length=120), nullable=False),
        sa.Column("destination", sa.String(length=200), nullable=False),
        sa.Column("departs_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("returns_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("crew_phone", sa.String(length=40), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("departed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_lat", sa.Float(), nullable=True),
        sa.Column("last_lon", sa.Float(), nullable=True),
        sa.Column("last_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_raised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_marine_trips_operator_id", "marine_trips", ["operator_id"])
    op.create_index("ix_marine_trips_status_returns_by", "marine_trips", ["status", "returns_by"])
    op.create_table(
        "marine_passengers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("trip_id", sa.Integer(), sa.ForeignKey("marine_trips.id", ondelete="CASCADE"), nullable=False),
        sa.Column("card_id", sa.String(length=32), sa.ForeignKey("cards.id"), nullable=False),
        sa.Column("boarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("boarded_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("ashore_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ashore_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("last_lat", sa.Float(), nullable=True),
        sa.Column("last_lon", sa.Float(), nullable=True),
        sa.Column("last_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("trip_id", "card_id", name="uq_marine_passengers_trip_card"),
    )
    op.create_index("ix_marine_passengers_trip_id", "marine_passengers", ["trip_id"])
    op.create_index("ix_marine_passengers_aboard_card", "marine_passengers", ["card_id"],
                    sqlite_where=sa.text(_ABOARD), postgresql_where=sa.text(_ABOARD))
    op.create_table(
        "marine_stations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("zone_id", sa.Integer(), sa.ForeignKey("zones.id", ondelete="SET NULL"), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_marine_stations_token_hash"),
    )
    op.create_table(
        "marine_observations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.Integer(), sa.ForeignKey("marine_stations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wave_height_m", sa.Float(), nullable=True),
        sa.Column("wind_speed_mps", sa.Float(), nullable=True),
        sa.Column("gust_mps", sa.Float(), nullable=True),
        sa.Column("flag", sa.String(length=8), nullable=True),
    )
    op.create_index("ix_marine_observations_station_observed", "marine_observations", ["station_id", "observed_at"])
    op.create_table(
        "marine_warnings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.Integer(), sa.ForeignKey("marine_stations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("zone_id", sa.Integer(), sa.ForeignKey("zones.id", ondelete="SET NULL"), nullable=True),
        sa.Column("zone_base_severity", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_marine_warnings_station_id", "marine_warnings", ["station_id"])
    op.create_index("uq_marine_warnings_open_station", "marine_warnings", ["station_id"], unique=True,
                    sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))
    # SQLite adds the columns in place (recreating ``users`` or ``incidents`` would break the tables
    # that reference them) and cannot add a constraint to a table: there they are plain columns
    # (operators and trips are never deleted by the application); PostgreSQL gets the foreign keys
    operator_id = (sa.Column("operator_id", sa.Integer(), nullable=True) if sqlite else
                   sa.Column("operator_id", sa.Integer(), sa.ForeignKey("marine_operators.id",
                                                                     name="fk_users_operator_id"), nullable=True))
    with op.batch_alter_table("users", schema=None, recreate="never" if sqlite else "auto") as batch_op:
        batch_op.add_column(operator_id)
    op.create_index("ix_users_operator_id", "users", ["operator_id"])
    trip_id = (sa.Column("trip_id", sa.Integer(), nullable=True) if sqlite else
               sa.Column("trip_id", sa.Integer(), sa.ForeignKey("marine_trips.id", ondelete="SET NULL",
                                                                 name="fk_incidents_trip_id"), nullable=True))
    with op.batch_alter_table("incidents", schema=None, recreate="never" if sqlite else "auto") as batch_op:
        batch_op.add_column(trip_id)
    op.create_index("ix_incidents_trip_id", "incidents", ["trip_id"])
    if not sqlite:
        op.alter_column("incidents", "kind", type_=sa.String(length=24), existing_type=sa.String(length=16),
                        existing_nullable=False)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.alter_column("incidents", "kind", type_=sa.String(length=16), existing_type=sa.String(length=24),
                        existing_nullable=False)
    op.drop_index("ix_incidents_trip_id", table_name="incidents")
    with op.batch_alter_table("incidents", schema=None, recreate="never" if sqlite else "auto") as batch_op:
        if not sqlite:
            batch_op.drop_constraint("fk_incidents_trip_id", type_="foreignkey")
        batch_op.drop_column("trip_id")
    op.drop_index("ix_users_operator_id", table_name="users")
    with op.batch_alter_table("users", schema=None, recreate="never" if sqlite else "auto") as batch_op:
        if not sqlite:
            batch_op.drop_constraint("fk_users_operator_id", type_="foreignkey")
        batch_op.drop_column("operator_id")
    op.drop_index("uq_marine_warnings_open_station", table_name="marine_warnings")
    op.drop_index("ix_marine_warnings_station_id", table_name="marine_warnings")
    op.drop_table("marine_warnings")
    op.drop_index("ix_marine_observations_station_observed", table_name="marine_observations")
    op.drop_table("marine_observations")
    op.drop_table("marine_stations")
    op.drop_index("ix_marine_passengers_aboard_card", table_name="marine_passengers")
    op.drop_index("ix_marine_passengers_trip_id", table_name="marine_passengers")
    op.drop_table("marine_passengers")
    op.drop_index("ix_marine_trips_status_returns_by", table_name="marine_trips")
    op.drop_index("ix_marine_trips_operator_id", table_name="marine_trips")
    op.drop_table("marine_trips")
    op.drop_table("marine_operators")
