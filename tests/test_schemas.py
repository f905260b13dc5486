import datetime as dt

import pyarrow as pa
import pytest
from pydantic import ValidationError

from schemas import SCHEMA_VERSION, Article, Rejected, arrow_schema
from schemas.tables import TABLES


def test_arrow_schema_is_derived_from_each_model():
    for table in TABLES.values():
        schema = table.schema
        assert schema.names == list(table.model.model_fields)
        assert schema.metadata[b"newsbeam.schema_version"] == SCHEMA_VERSION.encode()
        assert schema.metadata[b"newsbeam.table"] == table.name.encode()


def test_types_and_nullability():
    schema = arrow_schema(Article, "articles")
    assert schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert not schema.field("published_at").nullable and schema.field("title").nullable
    assert schema.field("quality_flags").type == pa.list_(pa.string())
    assert schema.field("word_count").type == pa.int64()
    assert arrow_schema(Rejected, "rejected").field("original_bytes").type == pa.binary()


def test_models_are_frozen_and_strict():
    fields = dict(
        input_uri="x",
        stage="decode",
        error_type="empty_file",
        message="m",
        original_bytes=b"",
        original_size=0,
        rejected_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    )
    row = Rejected(**fields)
    with pytest.raises(ValidationError):
        row.message = "changed"
    with pytest.raises(ValidationError):
        Rejected(**fields, surprise=1)
    with pytest.raises(ValidationError):
        Rejected(**{**fields, "stage": "nonsense"})
    with pytest.raises(ValidationError):
        Rejected(**{**fields, "rejected_at": dt.datetime(2024, 1, 1)})  # naive time
