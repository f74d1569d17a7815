"""Geofencing, tracking and incident additions.

- latest_positions.overdue_contact_at: the contact whose silence ``overdue`` was raised for
  (raised once per silence).
- pings: index (card_id, recorded_at) for tracks and retention.
- PostgreSQL only: ``pings`` becomes a table partitioned by month of ``recorded_at``
  (``pings_yYYYYmMM`` plus a default partition). A unique key of a partitioned table must
  hold the partition key, so the primary key becomes (id, recorded_at) and the idempotency key
  (card_id, client_id, recorded_at); ``record_pings`` looks client ids up before inserting and
  inserts with ON CONFLICT DO NOTHING (see geo/data/README.md, "Pings, partitions and retention").

Revision ID: 0003
Revises: 0002
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = ("id, card_id, device_id, client_id, lat, lon, geom, recorded_at, received_at, accuracy_m, "
            "battery_pct, speed_mps, heading_deg, altitude_m, source, incident_id")


def _month(year, month):
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def _partition_pings():
    bind = op.get_bind()
    op.execute("ALTER TABLE pings RENAME TO pings_unpartitioned")
    op.execute("ALTER INDEX pings_pkey RENAME TO pings_unpartitioned_pkey")
    op.execute("ALTER TABLE pings_unpartitioned DROP CONSTRAINT uq_pings_card_client")
    for name in ("ix_pings_card_id", "ix_pings_incident_id", "ix_pings_recorded_at"):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("""
        CREATE TABLE pings (
            id BIGINT NOT NULL DEFAULT nextval('pings_id_seq'::regclass),
            card_id VARCHAR(32) NOT NULL CONSTRAINT pings_card_id_fkey REFERENCES cards (id),
            device_id VARCHAR(40),
            client_id VARCHAR(64) NOT NULL,
            lat DOUBLE PRECISION NOT NULL,
            lon DOUBLE PRECISION NOT NULL,
            geom geometry(POINT, 4326) NOT NULL,
            recorded_at TIMESTAMP WITH TIME ZONE NOT NULL,
            received_at TIMESTAMP WITH TIME ZONE NOT NULL,
            accuracy_m DOUBLE PRECISION,
            battery_pct DOUBLE PRECISION,
            speed_mps DOUBLE PRECISION,
            heading_deg DOUBLE PRECISION,
            altitude_m DOUBLE PRECISION,
            source VARCHAR(12) NOT NULL,
            incident_id INTEGER,
            CONSTRAINT pings_pkey PRIMARY KEY (id, recorded_at),
            CONSTRAINT uq_pings_card_client UNIQUE (card_id, client_id, recorded_at)
        ) PARTITION BY RANGE (recorded_at)
    """)
    op.execute("CREATE INDEX ix_pings_card_id ON pings (card_id)")
    op.execute("CREATE INDEX ix_pings_incident_id ON pings (incident_id)")
    op.execute("CREATE INDEX ix_pings_recorded_at ON pings (recorded_at)")
    op.execute("CREATE INDEX ix_pings_card_recorded_at ON pings (card_id, recorded_at)")
    op.execute("CREATE TABLE pings_default PARTITION OF pings DEFAULT")
    now = datetime.now(UTC)
    oldest = bind.execute(sa.text("SELECT min(recorded_at) FROM pings_unpartitioned")).scalar()
    first = oldest if oldest is not None and oldest < now else now
    month = _month(first.year, first.month - (0 if oldest is not None and oldest < now else 1))
    last = _month(now.year, now.month + 3)
    while month <= last:
        end = _month(month.year, month.month + 1)
        op.execute(f"CREATE TABLE pings_y{month.year:04d}m{month.month:02d} PARTITION OF pings "
                   f"FOR VALUES FROM ('{month.isoformat()}') TO ('{end.isoformat()}')")
        month = end
    op.execute(f"INSERT INTO pings ({_COLUMNS}) SELECT {_COLUMNS} FROM pings_unpartitioned")
    op.execute("ALTER SEQUENCE pings_id_seq OWNED BY pings.id")
    op.execute("DROP TABLE pings_unpartitioned")


def _unpartition_pings():
    op.execute("ALTER TABLE pings RENAME TO pings_partitioned")
    op.execute("ALTER INDEX pings_pkey RENAME TO pings_partitioned_pkey")
    op.execute("ALTER TABLE pings_partitioned DROP CONSTRAINT uq_pings_card_client")
    for name in ("ix_pings_card_id", "ix_pings_incident_id", "ix_pings_recorded_at", "ix_pings_card_recorded_at"):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("""
        CREATE TABLE pings (
            id BIGINT NOT NULL DEFAULT nextval('pings_id_seq'::regclass),
            card_id VARCHAR(32) NOT NULL CONSTRAINT pings_card_id_fkey REFERENCES cards (id),
            device_id VARCHAR(40),
            client_id VARCHAR(64) NOT NULL,
            lat DOUBLE PRECISION NOT NULL,
            lon DOUBLE PRECISION NOT NULL,
            geom geometry(POINT, 4326) NOT NULL,
            recorded_at TIMESTAMP WITH TIME ZONE NOT NULL,
            received_at TIMESTAMP WITH TIME ZONE NOT NULL,
            accuracy_m DOUBLE PRECISION,
            battery_pct DOUBLE PRECISION,
            speed_mps DOUBLE PRECISION,
            heading_deg DOUBLE PRECISION,
            altitude_m DOUBLE PRECISION,
            source VARCHAR(12) NOT NULL,
            incident_id INTEGER,
            CONSTRAINT pings_pkey PRIMARY KEY (id),
            CONSTRAINT uq_pings_card_client UNIQUE (card_id, client_id)
        )
    """)
    op.execute(f"INSERT INTO pings ({_COLUMNS}) SELECT DISTINCT ON (card_id, client_id) {_COLUMNS} "
               "FROM pings_partitioned ORDER BY card_id, client_id, id")
    op.execute("CREATE INDEX ix_pings_card_id ON pings (card_id)")
    op.execute("CREATE INDEX ix_pings_incident_id ON pings (incident_id)")
    op.execute("CREATE INDEX ix_pings_recorded_at ON pings (recorded_at)")
    op.execute("ALTER SEQUENCE pings_id_seq OWNED BY pings.id")
    op.execute("DROP TABLE pings_partitioned CASCADE")


def upgrade():
    with op.batch_alter_table("latest_positions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("overdue_contact_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _partition_pings()
    else:
        with op.batch_alter_table("pings", schema=None) as batch_op:
            batch_op.create_index("ix_pings_card_recorded_at", ["card_id", "recorded_at"], unique=False)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _unpartition_pings()
    else:
        with op.batch_alter_table("pings", schema=None) as batch_op:
            batch_op.drop_index("ix_pings_card_recorded_at")
    with op.batch_alter_table("latest_positions", schema=None) as batch_op:
        batch_op.drop_column("overdue_contact_at")
