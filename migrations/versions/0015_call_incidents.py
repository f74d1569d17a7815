"""Incidents from 191 calls about someone without a card: ``incidents.card_id`` nullable, the caller.

- ``incidents.card_id`` may be null (a call about a resident, a tourist who never got a card,
  a caller who does not know the card); such an incident needs a position (the API checks it).
- ``incidents.caller_name`` / ``caller_phone``: who called, as the dispatcher noted it.
- ``uq_incidents_open_card_kind`` stays as it is: a unique index treats nulls as distinct on
  SQLite and PostgreSQL, so it still allows one open incident per card and kind and any number
  of card-less ones.

SQLite cannot drop a NOT NULL constraint with ALTER TABLE, and recreating ``incidents`` (batch
mode's copy-and-rename) would fire the ON DELETE CASCADE of ``incident_events`` while foreign
keys are on. It uses SQLite's documented procedure for removing a NOT NULL constraint instead
(https://www.sqlite.org/lang_altertable.html, "Making other kinds of table schema changes"):
rewrite the table's stored CREATE TABLE text under ``writable_schema`` and bump
``schema_version``; the file format of the rows does not change. PostgreSQL alters the column.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_NOT_NULL = "card_id VARCHAR(32) NOT NULL"
_NULLABLE = "card_id VARCHAR(32)"


def _sqlite_rewrite_card_id(old: str, new: str) -> None:
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'incidents'").scalar()
    if old not in sql:
        raise RuntimeError(f"incidents.card_id is not declared as {old!r}: {sql}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'incidents'",
                         (old, new))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"integrity_check after the incidents rewrite: {problems}")


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("incidents", schema=None, recreate="never" if sqlite else "auto") as batch_op:
        batch_op.add_column(sa.Column("caller_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("caller_phone", sa.String(length=40), nullable=True))
        if not sqlite:
            batch_op.alter_column("card_id", existing_type=sa.String(length=32), nullable=True)
    if sqlite:
        _sqlite_rewrite_card_id(_NOT_NULL, _NULLABLE)


def downgrade():
    # card-less incidents cannot keep a NOT NULL card_id: refuse rather than delete them
    if op.get_bind().exec_driver_sql("SELECT count(*) FROM incidents WHERE card_id IS NULL").scalar():
        raise RuntimeError("card-less incidents exist; downgrading would lose them")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_rewrite_card_id(f"{_NULLABLE}, ", f"{_NOT_NULL}, ")
    with op.batch_alter_table("incidents", schema=None, recreate="never" if sqlite else "auto") as batch_op:
        if not sqlite:
            batch_op.alter_column("card_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_column("caller_phone")
        batch_op.drop_column("caller_name")
