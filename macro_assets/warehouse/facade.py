"""The warehouse as its users see it: a reader per shape, the pipeline's door, and `connect()`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import sqlalchemy as sa

from macro_assets import settings
from macro_assets.errors import InvalidInput
from macro_assets.shapes import (
    EXPECTATIONS,
    INDEX_COMPONENTS,
    INSTRUMENT_DEFINITIONS,
    INSTRUMENT_STATISTICS,
    POSITIONS,
    SHAPES,
    TBBO,
    TRADES,
    Shape,
)
from macro_assets.warehouse import embedded, timescale
from macro_assets.warehouse.db import Database
from macro_assets.warehouse.migrations import apply_migrations
from macro_assets.warehouse.pipeline import Pipeline
from macro_assets.warehouse.readers import BarsReader, CurvesReader, ObservationsReader, Reader


class Warehouse:
    """Point-in-time reads, one reader per shape (`observations`, `curves`, `bars`, `expectations`,
    `index_components`, `positions`, `trades`, `tbbo`, `instrument_statistics`, `instrument_definitions`), and the
    pipeline's internals (`pipeline`). Create it with `macro_assets.warehouse.connect()`."""

    def __init__(self, db: Database):
        self._db = db
        self.observations = ObservationsReader(db)
        self.curves = CurvesReader(db)
        self.bars = BarsReader(db)
        self.expectations = Reader(db, EXPECTATIONS)
        self.index_components = Reader(db, INDEX_COMPONENTS)
        self.positions = Reader(db, POSITIONS)
        self.trades = Reader(db, TRADES)
        self.tbbo = Reader(db, TBBO)
        self.instrument_statistics = Reader(db, INSTRUMENT_STATISTICS)
        self.instrument_definitions = Reader(db, INSTRUMENT_DEFINITIONS)
        self._readers = {
            reader.shape.name: reader
            for reader in vars(self).values()
            if isinstance(reader, Reader)  # every attribute above that reads a shape
        }
        self.pipeline = Pipeline(db)

    def reader(self, shape: Shape | str) -> Reader:
        """The reader of a shape (a dataset's `shape`, or its name): what callers that hold a dataset use."""
        name = shape if isinstance(shape, str) else shape.name
        if name not in self._readers:
            raise InvalidInput(f"shape {name!r}: expected one of {sorted(self._readers)}")
        return self._readers[name]

    @property
    def url(self) -> str:
        return self._db.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self._db.engine.dispose()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def resolve_url(url: str | None = None) -> str:
    """The given URL, else MACRO_ASSETS_WAREHOUSE_URL, else the embedded server (started if needed)."""
    url = url or settings.warehouse_url()
    if url is None:
        return embedded.warehouse_url()
    if url.startswith(("postgresql://", "postgres://")):
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; this project ships psycopg2.
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def connect(
    url: str | None = None,
    *,
    migrate: bool = True,
    known_ids: Callable[[], Iterable[str]] | None = None,
    holidays_for: Callable[[str, dt.date, dt.date], Iterable[dt.date]] | None = None,
) -> Warehouse:
    """Open the warehouse at `url` (see resolve_url); `migrate` applies pending migrations and brings the tables
    to their TimescaleDB layout when the server can run it. `known_ids` lists the ids that read empty instead of
    raising UnknownDataset before anything is stored for them (the catalog's); it is called once, when needed.
    `holidays_for(id, first, last)` gives a dataset's closed days, which a curve's business days skip."""
    # Every session in UTC: COPY prints instants with a +00 offset whatever the server's default time zone.
    engine = sa.create_engine(
        resolve_url(url), pool_pre_ping=True, pool_size=4, max_overflow=4, connect_args={"options": "-c TimeZone=UTC"}
    )
    if migrate:
        apply_migrations(engine)
    on_timescale = timescale.prepare(engine, list(SHAPES.values()), convert=migrate)
    if on_timescale:
        sa.event.listen(engine, "connect", timescale.disable_skipscan)
        engine.dispose()  # the connections opened so far predate the listener
    return Warehouse(Database(engine, timescale=on_timescale, known_ids=known_ids, holidays_for=holidays_for))
