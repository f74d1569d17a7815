"""191 center (dispatch workflow, realtime) additions.

- ``incident_events.seq`` never repeats on SQLite either (AUTOINCREMENT): replay by ``seq``
  must not skip or re-deliver an event after old rows are deleted (PostgreSQL's sequence
  never reuses values).
- Indexes for the console's queries: open incidents by kind and severity, and each
  incident's timeline in ``seq`` order.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("incident_events", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}) as batch_op:
            batch_op.create_index("ix_incident_events_incident_seq", ["incident_id", "seq"], unique=False)
    else:
        with op.batch_alter_table("incident_events", schema=None) as batch_op:
            batch_op.create_index("ix_incident_events_incident_seq", ["incident_id", "seq"], unique=False)
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index("ix_incidents_kind_severity", ["kind", "severity"], unique=False)


def downgrade():
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_kind_severity")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("incident_events", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": False}) as batch_op:
            batch_op.drop_index("ix_incident_events_incident_seq")
    else:
        with op.batch_alter_table("incident_events", schema=None) as batch_op:
            batch_op.drop_index("ix_incident_events_incident_seq")
