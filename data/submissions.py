"""Citizens' submissions written in groups: one transaction for the submissions that arrive together.

Streamlit runs every browser session as a thread of one process.  When a QR-code campaign brings
many citizens at once, each submission in its own transaction spends most of its time waiting:
for SQLite's single writer, for the interpreter's lock between threads, for a commit each on
PostgreSQL.  Here the first submitter to arrive becomes the *leader*: it writes every submission
waiting at that moment (up to ``MAX_GROUP``) in one transaction with one commit, gives each its own
result, and hands the leadership to the oldest submitter still waiting.  Nobody waits for more than
the group in front of it.

Each submission is checked and scored by its own thread (``responses.prepare_submission``), while
the group before it is being written, and stored in its group by ``responses.store_submission``,
with its own outcome: a refused one (``SubmissionRefused``) writes nothing and does not affect the
others; one that may refuse after writing (a round with invitations: the invitation may turn out to
be used) runs inside a savepoint.  If the group's transaction fails as a whole (a database error), every
submission of the group is retried alone, so one cannot fail the others; a response id stored twice,
in one group or in two, is stored once (``stored=False`` the second time).  On PostgreSQL a group
made only of citizens' own forms is stored with a few statements for the whole group
(``responses.store_submissions_together``) instead of two round trips per submission.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

from sqlalchemy import Engine

from data.db import write_session
from data.responses import (
    PreparedSubmission,
    SubmissionRefused,
    SubmitResult,
    prepare_submission,
    store_submission,
    store_submissions_together,
    stores_together,
)
from data.tallies import DeferredSums

MAX_GROUP = 64


@dataclass
class _Pending:
    prepared: PreparedSubmission
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    result: SubmitResult | None = None
    error: BaseException | None = None


class _SubmissionGroups:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._mutex = threading.Lock()
        self._waiting: list[_Pending] = []
        self._leaders = 0
        # SQLite has one writer at a time; PostgreSQL writes two groups at once: while one group's
        # statements run on the server, the other's are made in Python (two cores in use instead
        # of one taking turns).  Rows are locked in one order everywhere, so they cannot deadlock.
        self._most_leaders = 2 if engine.dialect.name == "postgresql" else 1

    def submit(self, prepared: PreparedSubmission) -> SubmitResult:
        pending = _Pending(prepared)
        with self._mutex:
            if self._leaders < self._most_leaders:
                self._leaders += 1
                pending.lead = True
            else:
                self._waiting.append(pending)
        if not pending.lead:
            pending.wake.wait()  # woken once: with a result, or to lead (it then left the queue)
        if pending.lead:
            self._lead_one_group(pending)
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _lead_one_group(self, leader: _Pending) -> None:
        with self._mutex:
            group = [leader, *self._waiting[: MAX_GROUP - 1]]
            del self._waiting[: MAX_GROUP - 1]
        try:
            self._write(group)
        finally:
            with self._mutex:  # the oldest waiter leads next, taken off the queue at once
                successor = self._waiting.pop(0) if self._waiting else None
                if successor is None:
                    self._leaders -= 1
                else:
                    successor.lead = True
            for pending in group:
                pending.wake.set()
            if successor is not None:
                successor.wake.set()

    def _write(self, group: list[_Pending]) -> None:
        try:
            with write_session(self._engine) as session:
                sums = DeferredSums()
                # In id order: two instances writing groups that share ids on PostgreSQL then lock
                # those rows in the same order and cannot deadlock (the tally rows are sorted too).
                ordered = sorted(group, key=lambda p: p.prepared.response_id)
                if self._engine.dialect.name == "postgresql" and all(
                    stores_together(p.prepared) for p in ordered
                ):  # the usual group: citizens' own forms; a few statements instead of two each
                    outcomes = store_submissions_together(session, [p.prepared for p in ordered], sums)
                    for pending, (result, error) in zip(ordered, outcomes):
                        pending.result, pending.error = result, error
                else:
                    for pending in ordered:
                        pending.result, pending.error = _submit_in(session, pending.prepared, sums)
                sums.write(session)
        except BaseException as error:  # the whole transaction is gone: each on its own instead
            for pending in group:
                pending.result = None
                pending.error = None
            if not isinstance(error, Exception):
                for pending in group:
                    pending.error = error
                raise
            for pending in group:
                try:
                    with write_session(self._engine) as session:
                        pending.result, pending.error = _submit_in(session, pending.prepared)
                except Exception as alone:
                    pending.result, pending.error = None, alone


def _submit_in(session, prepared: PreparedSubmission, sums: DeferredSums | None = None,
               ) -> tuple[SubmitResult | None, Exception | None]:
    """One submission inside the group's transaction; a refusal is this submission's outcome."""
    try:
        if prepared.survey_round.requires_invitation:
            with session.begin_nested():  # it may refuse after its insert
                return store_submission(session, prepared, sums), None
        return store_submission(session, prepared, sums), None
    except SubmissionRefused as refused:
        return None, refused


_GROUPS: weakref.WeakKeyDictionary[Engine, _SubmissionGroups] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def submit(engine: Engine, **arguments) -> SubmitResult:
    """``responses.submit_response(session, **arguments)`` in its own unit of work, written
    together with the submissions that arrive at the same moment (see the module's docstring).
    Raises ``SubmissionRefused`` exactly as ``submit_response`` does.

    The checks and scoring that need no database run here, in the caller's thread, while the
    current group is being written; only storing is left to the group."""
    prepared = prepare_submission(**arguments)
    with _GROUPS_LOCK:
        groups = _GROUPS.get(engine)
        if groups is None:
            groups = _GROUPS[engine] = _SubmissionGroups(engine)
    return groups.submit(prepared)
