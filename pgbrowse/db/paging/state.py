"""ViewState: what the UI knows of a view, as the loader thread saw it after a job.

The loader thread alone calls the pager; after each job it sends the UI a ViewState with the
result (and the page's rows, or the error). The UI draws from the last one it received and
never reads the pager back. Everything in it is immutable, so it is safe on any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgbrowse.db.catalog.relations import Column, Relation
from pgbrowse.db.catalog.server_side import ServerSide
from pgbrowse.db.paging.view import View


@dataclass(frozen=True)
class ViewState:
    view: View  # the pure view model: its SQL (export, count) composes from it on any thread
    opened: bool  # the columns and the plan are known
    row_count: int
    count_exact: bool
    positions_exact: bool  # row numbers count from the first row (not a seek's estimate)
    frame: int  # the numbering the cached pages belong to
    shift: int  # how far positions moved in total (the view keeps the same rows in sight)
    seeks: bool  # far moves seek (rather than walk)
    restarts: int  # how many times the order or the filter changed (reading started over)
    reconnects: int  # lost sessions replaced
    page_size: int
    holds_transaction: bool
    server_side: ServerSide | None = None
    # What happened since the last state: "restarted" (the order or the filter changed,
    # reading starts over at row 0), "reconnected" (a lost session was replaced), "landed"
    # (the view opened on the row a foreign key points at: at ``landed``).
    events: tuple[str, ...] = ()
    lost_because: str = ""  # why the last lost session was lost, as the server said it
    connection: str = ""  # how the connection goes: TLS or not, a pooler, a standby
    powers: str = ""  # what the role can do beyond reading ("superuser: …"), said early
    snapshot: int = 0  # which of the view's snapshots its pages are from (1 = the first)
    landed: int | None = None  # where the row a foreign key led to is ("landed" event)

    @classmethod
    def initial(cls, relation: Relation, page_size: int, truncate: int) -> ViewState:
        """Before the loader has reported anything: a view being opened."""
        return cls(
            view=View(relation, (), truncate=truncate),
            opened=False,
            row_count=0,
            count_exact=False,
            positions_exact=True,
            frame=0,
            shift=0,
            seeks=False,
            restarts=0,
            reconnects=0,
            page_size=page_size,
            holds_transaction=False,
        )

    @property
    def relation(self) -> Relation:
        return self.view.relation

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.view.columns

    @property
    def order(self) -> tuple[str, bool] | None:
        return self.view.sort

    @property
    def filter(self) -> str | None:
        return self.view.filter_text

    @property
    def why(self) -> str:
        return self.view.strategy.why if self.opened else ""

    @property
    def held(self) -> str:
        """On Citus, how the relation is held (``distributed by tenant · 8 shards on 2
        workers``); '' elsewhere."""
        distribution = self.view.distribution
        return distribution.describe() if distribution is not None and self.opened else ""

    @property
    def sorts_everything(self) -> bool:
        return self.view.strategy.sorts_everything

    @property
    def truncate(self) -> int:
        return self.view.truncate
