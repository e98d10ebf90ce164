"""Pipeline internals, apart from consumer reads: the one write door, and what ingestion asks about payloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
import polars as pl

from macro_assets.errors import InvalidInput
from macro_assets.provenance import PayloadRecord, QuarantineRecord
from macro_assets.shapes import SHAPES, Shape
from macro_assets.warehouse import frames, timescale
from macro_assets.warehouse.db import Database, distinct_ids_sql
from macro_assets.warehouse.engine import AppendResult, VintageEngine, insert_payloads, insert_quarantine


class Pipeline:
    """Writes and provenance of every shape. Reach it as `connect().pipeline`."""

    def __init__(self, db: Database):
        self._db = db
        self._engines = {name: VintageEngine(shape) for name, shape in SHAPES.items()}

    def append(
        self,
        shape: str | Shape,
        frame: pd.DataFrame | pl.DataFrame,
        *,
        payloads: Iterable[PayloadRecord] = (),
        quarantine: Iterable[QuarantineRecord] = (),
    ) -> AppendResult:
        """Add the vintages of `frame` that change what is known; one transaction for the rows, the payload
        records and the quarantined records (given ones and conflicts found), so a crash leaves every table as it
        was."""
        engine = self._engine(shape)
        table = frames.normalize_for_write(engine.shape, frame)
        payloads, quarantine = list(payloads), list(quarantine)
        with self._db.transaction() as cursor:
            result, conflicts = engine.write(cursor, table)
            insert_payloads(cursor, payloads)
            insert_quarantine(cursor, [*quarantine, *conflicts])
        if self._db.timescale and result.added:
            timescale.guard_new_chunks(self._db.engine, engine.shape)
        return result

    def fetch_coverage(self, dataset_id: str, before: dt.datetime) -> list[tuple[dt.date, dt.date]]:
        """Windows of the payloads of a dataset fetched strictly before `before` whose rows were offered."""
        with self._db.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT window_start, window_end FROM payloads"
                " WHERE dataset_id = %s AND fetched_at < %s AND refused IS NULL ORDER BY 1, 2",
                (dataset_id, before),
            )
            return [(start, end) for start, end in cursor.fetchall()]

    def payloads(self, dataset_id: str) -> pd.DataFrame:
        return self._frame(
            "SELECT * FROM payloads WHERE dataset_id = %s ORDER BY fetched_at, object_key", (dataset_id,)
        )

    def quarantined(self, dataset_id: str | None = None) -> pd.DataFrame:
        where = " WHERE dataset_id = %s" if dataset_id else ""
        return self._frame(
            f"SELECT * FROM quarantine{where} ORDER BY quarantined_at, dataset_id, record_index",
            (dataset_id,) if dataset_id else (),
        )

    def counts(self) -> dict:
        """Rows and distinct ids per vintage table, payload records and quarantined records."""
        counts = {}
        with self._db.cursor() as cursor:
            for shape in SHAPES.values():
                cursor.execute(
                    f"SELECT count(*), (SELECT count(*) FROM ({distinct_ids_sql(shape)}) ids) FROM {shape.table}"
                )
                rows, ids = cursor.fetchone()
                counts[shape.table] = {"rows": rows, "ids": ids}
            cursor.execute("SELECT (SELECT count(*) FROM payloads), (SELECT count(*) FROM quarantine)")
            counts["payloads"], counts["quarantined"] = cursor.fetchone()
        return counts

    def _engine(self, shape: str | Shape) -> VintageEngine:
        name = shape.name if isinstance(shape, Shape) else shape
        if name not in self._engines or (isinstance(shape, Shape) and shape != SHAPES[name]):
            raise InvalidInput(f"shape: {shape!r} is not one of {sorted(SHAPES)}")
        return self._engines[name]

    def _frame(self, query: str, params: tuple) -> pd.DataFrame:
        with self._db.cursor() as cursor:
            cursor.execute(query, params)
            return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])
