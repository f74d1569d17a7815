"""After-commit signals are heard once the change is stored — savepoints are not commits.

SQLAlchemy fires its ``after_commit`` event when a savepoint (``session.begin_nested()``) is
released and ``after_rollback`` when one rolls back. The SOS path uses savepoints, so treating
those events as the transaction's end announced an SOS to the consoles, and nudged the push of
"SOS received", before the SOS was stored: under load the push job found nothing to send and the
tourist heard nothing until the next hourly pass (CI caught it in
tests/notifications/test_push.py::test_a_running_server_pushes_at_once_not_at_its_next_pass).
"""

from __future__ import annotations

from blinker import Namespace
from sqlalchemy import text

from backend import signals
from backend.extensions import db

_test_signals = Namespace()


def test_a_released_savepoint_is_not_a_commit_and_a_rolled_back_one_drops_only_its_own(app):
    signal = _test_signals.signal("savepoint_probe")
    heard: list[list[str]] = []

    def receiver(_sender, items):  # noqa: ANN001, ANN202
        heard.append(list(items))

    signal.connect(receiver)
    try:
        with app.app_context():
            db.session.execute(text("SELECT 1"))
            signals.after_commit(db.session, signal, "before the savepoints")
            with db.session.begin_nested():
                signals.after_commit(db.session, signal, "inside a released savepoint")
            assert heard == []  # released, not committed
            try:
                with db.session.begin_nested():
                    signals.after_commit(db.session, signal, "inside a rolled-back savepoint")
                    raise ValueError("roll this savepoint back")
            except ValueError:
                pass
            assert heard == []  # the transaction goes on
            signals.after_commit(db.session, signal, "after the savepoints")
            db.session.commit()
            assert heard == [["before the savepoints", "inside a released savepoint", "after the savepoints"]]

            db.session.execute(text("SELECT 1"))
            signals.after_commit(db.session, signal, "rolled back with its transaction")
            db.session.rollback()
            db.session.execute(text("SELECT 1"))
            db.session.commit()
            assert len(heard) == 1  # nothing of a rolled-back transaction is heard, then or later
    finally:
        signal.disconnect(receiver)
