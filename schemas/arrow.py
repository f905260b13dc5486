"""Arrow schemas derived from the pydantic models: the one place a column's type is decided."""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from functools import lru_cache
from typing import Any, Iterable

import pyarrow as pa
from pydantic import BaseModel

SCHEMA_VERSION = "1"

_SCALARS: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    bytes: pa.binary(),
    dt.datetime: pa.timestamp("us", tz="UTC"),
    dt.date: pa.date32(),
}


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unions other than Optional[X] have no Arrow type: {annotation}")
        return args[0], True
    return annotation, False


def _arrow_type(annotation: Any) -> pa.DataType:
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return pa.string()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct(_fields(annotation))
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return pa.string()
    if origin in (list, tuple, typing.List, typing.Sequence):
        (item,) = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        item_type, _ = _unwrap_optional(item)
        return pa.list_(_arrow_type(item_type))
    raise TypeError(f"no Arrow type for annotation {annotation!r}")


def _fields(model: type[BaseModel]) -> list[pa.Field]:
    fields = []
    for name, info in model.model_fields.items():
        annotation, nullable = _unwrap_optional(info.annotation)
        fields.append(pa.field(name, _arrow_type(annotation), nullable=nullable))
    return fields


@lru_cache(maxsize=None)
def arrow_schema(model: type[BaseModel], table: str) -> pa.Schema:
    """The Parquet schema of `table`, whose rows are `model`s, with the schema version in its metadata."""
    return pa.schema(
        _fields(model),
        metadata={
            b"newsbeam.table": table.encode(),
            b"newsbeam.schema_version": SCHEMA_VERSION.encode(),
        },
    )


def to_arrow_table(rows: Iterable[dict], model: type[BaseModel], table: str) -> pa.Table:
    """Rows (``model.model_dump()`` dicts, enums as values) as an Arrow table of the derived schema."""
    return pa.Table.from_pylist(list(rows), schema=arrow_schema(model, table))
