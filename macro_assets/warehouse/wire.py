"""How read rows travel from the server: one row per dataset id whose columns are arrays, in COPY's binary format,
decoded with numpy into Arrow columns.

A row per id instead of a row per vintage removes the per-row cost on both sides (a COPY message, a Python call);
binary instead of CSV removes the server's number and timestamp formatting, which took half of a large read. Every
array element is fixed-width, so an array decodes as one strided numpy view: a missing float travels as NaN (never
stored: the tables refuse it), a missing integer as the smallest bigint (refused likewise) and a missing date as
'infinity'; ids travel as their position in the query's list and release_basis as its position in RELEASE_BASES.
Only text columns (a curve's point, a symbol) are decoded one by one.
"""

from __future__ import annotations

import struct

import numpy as np
import polars as pl
import pyarrow as pa

from macro_assets.shapes import RELEASE_BASES, Shape
from macro_assets.warehouse.db import joined

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_DAYS_1970_2000 = 10_957
_MICROS_1970_2000 = _DAYS_1970_2000 * 86_400_000_000
_DATE_INFINITY = 2**31 - 1
_INT_MISSING = -(2**63)  # a missing integer on the wire: the tables' integers are counts, codes and nanoseconds
_BASES = pa.array(RELEASE_BASES)


def _wire_type(name: str, dtype: pl.DataType) -> tuple[str, str | None]:
    """The SQL expression of a column on the wire and its element's numpy type (None: text)."""
    if name == "release_basis":
        return f"array_position(ARRAY{list(RELEASE_BASES)}::text[], release_basis)::int2", ">i2"
    if dtype == pl.Date:
        return f"coalesce({name}, 'infinity')", ">i4"
    if dtype == pl.Float64:
        return f"coalesce({name}, 'NaN')", ">f8"
    if dtype == pl.Int64:
        return f"coalesce({name}, '{_INT_MISSING}'::int8)", ">i8"
    if isinstance(dtype, pl.Datetime):
        return name, ">i8"
    return name, None


class Wire:
    """The array columns of one shape's read columns (all but the id), and their decoding."""

    def __init__(self, shape: Shape, columns: list[str], schema: pa.Schema):
        self._schema = schema
        self._columns = columns[1:]  # the id travels once per row, as its position
        self._wire = {c: _wire_type(c, shape.write_schema[c]) for c in self._columns}

    def select(self, inner: str) -> str:
        """The per-id row: its position and an array per column of `inner`'s rows, in `inner`'s order (a plain
        aggregate over an ordered subquery keeps the order)."""
        arrays = joined(f"array_agg({expression})" for expression, _ in self._wire.values())
        return (
            "SELECT wanted.n::int4, arrays.* FROM unnest(%(ids)s::text[]) WITH ORDINALITY AS wanted(id, n),"
            f" LATERAL (SELECT {arrays} FROM ({inner}) rows) arrays"
        )

    def decode(self, data: bytes, ids: list[str], *, reverse: bool) -> pa.Table:
        """The rows of a binary COPY of `select`, id by id in the order of `ids`; each id's rows turned round with
        `reverse` (a backward scan's newest-first order)."""
        if not data.startswith(_SIGNATURE):
            raise ValueError("not a binary COPY stream")
        (extension,) = struct.unpack_from(">i", data, 15)
        offset = 19 + extension
        positions, parts = [], {c: [] for c in self._columns}
        while True:
            (fields,) = struct.unpack_from(">h", data, offset)
            offset += 2
            if fields == -1:
                break
            (position,) = struct.unpack_from(">i", data, offset + 4)  # after its length, always 4
            offset += 8
            count = None
            for column in self._columns:
                (length,) = struct.unpack_from(">i", data, offset)
                offset += 4
                if length == -1:  # an id without rows: array_agg of nothing is null
                    continue
                values, count = self._array(data, offset, self._wire[column][1])
                parts[column].append(values[::-1] if reverse else values)
                offset += length
            if count:
                positions.append(np.full(count, position - 1, dtype=np.int32))
        return self._table(ids, positions, parts)

    @staticmethod
    def _array(data: bytes, offset: int, element: str | None):
        dimensions, _has_null, _type = struct.unpack_from(">iii", data, offset)
        if dimensions == 0:
            return np.empty(0, dtype=element or object), 0
        (count,) = struct.unpack_from(">i", data, offset + 12)
        start = offset + 20
        if element is None:
            texts, cursor = [], start
            for _ in range(count):
                (size,) = struct.unpack_from(">i", data, cursor)
                if size == -1:  # a missing text (a withdrawal's symbol)
                    texts.append(None)
                    cursor += 4
                    continue
                texts.append(data[cursor + 4 : cursor + 4 + size].decode())
                cursor += 4 + size
            return np.array(texts, dtype=object), count
        layout = np.dtype([("size", ">i4"), ("value", element)])
        return np.frombuffer(data, dtype=layout, count=count, offset=start)["value"], count

    def _table(self, ids: list[str], positions: list[np.ndarray], parts: dict[str, list]) -> pa.Table:
        if not positions:
            return self._schema.empty_table()
        index = np.concatenate(positions)
        columns = [pa.DictionaryArray.from_arrays(pa.array(index), pa.array(ids)).cast(pa.string())]
        for column in self._columns:
            columns.append(_arrow(column, np.concatenate(parts[column]), self._schema.field(column).type))
        return pa.Table.from_arrays(columns, schema=self._schema)


def _arrow(column: str, values: np.ndarray, kind: pa.DataType) -> pa.Array:
    if column == "release_basis":
        return _BASES.take(pa.array(values.astype(np.int32) - 1))
    if pa.types.is_date32(kind):
        days = values.astype(np.int32)
        return pa.array(days + _DAYS_1970_2000, mask=days == _DATE_INFINITY).cast(pa.date32())
    if pa.types.is_timestamp(kind):
        return pa.array(values.astype(np.int64) + _MICROS_1970_2000).cast(kind)
    if pa.types.is_floating(kind):
        values = values.astype(np.float64)
        return pa.array(values, mask=np.isnan(values))
    if pa.types.is_integer(kind):
        values = values.astype(np.int64)
        return pa.array(values, mask=values == _INT_MISSING)
    return pa.array(values, type=pa.string())
