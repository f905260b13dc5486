"""The DuckDB kit: `sql/newsbeam.sql`'s views over an output folder, and its example questions.

    python -m reporting.kit --output output                 # run every question, print the answers
    python -m reporting.kit --output output --question co_occurrence

    from reporting.kit import connect, questions
    con = connect("output")
    con.sql("SELECT rule_id, status, story_title FROM current_story_alerts").show()

A table with no files in the output (`rejected` after a clean run, `duplicates` when nothing
repeated) gets an empty view with the columns of its model, so every view and every question
works on every output. The SQL file itself stays plain DuckDB SQL, usable from the CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

import duckdb
import pyarrow as pa

from schemas.tables import TABLES

SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "newsbeam.sql"
OUTPUT_VARIABLE = "newsbeam_output"
_BLOCK = re.compile(r"^-- (view|question): ([a-z0-9_]+)\s*$", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Block:
    kind: str  # "view" or "question"
    name: str
    sql: str  # the statement, with its leading comment lines

    @property
    def description(self) -> str:
        return " ".join(line[2:].strip() for line in self.sql.splitlines() if line.startswith("--"))


def blocks(sql_file: Path = SQL_FILE) -> list[Block]:
    """The file's `-- view:` and `-- question:` blocks, in file order."""
    text = sql_file.read_text(encoding="utf-8")
    marks = list(_BLOCK.finditer(text))
    if not marks:
        raise ValueError(f"{sql_file}: no '-- view: NAME' or '-- question: NAME' blocks")
    out = []
    for mark, nxt in zip(marks, marks[1:] + [None]):
        body = text[mark.end() : nxt.start() if nxt else len(text)].strip()
        out.append(Block(mark.group(1), mark.group(2), body))
    return out


def questions(sql_file: Path = SQL_FILE) -> dict[str, str]:
    return {b.name: b.sql for b in blocks(sql_file) if b.kind == "question"}


def records(con: duckdb.DuckDBPyConnection, sql: str, params: list | tuple = ()) -> list[dict]:
    """A query's rows as dicts keyed by column name, read to the end."""
    result = con.execute(sql, list(params))
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | tuple = ()) -> tuple:
    """The single row of a query, read to the end (a result left open blocks the connection's next query)."""
    (row,) = con.execute(sql, list(params)).fetchall()
    return row


def _has_files(output: Path, table: str) -> bool:
    return any((output / table).glob("dt=*/*.parquet"))


def _empty_table(table: str) -> pa.Table:
    schema = TABLES[table].schema
    return schema.append(pa.field("dt", pa.date32())).empty_table()


def connect(
    output: str | Path, con: duckdb.DuckDBPyConnection | None = None, sql_file: Path = SQL_FILE
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the kit's views over `output` (a folder the pipeline wrote)."""
    output = Path(output)
    if not (output / "_manifest.json").exists():
        raise FileNotFoundError(f"{output} is not a newsbeam output folder (no _manifest.json); run the pipeline first")
    con = con or duckdb.connect()
    con.execute(f"SET VARIABLE {OUTPUT_VARIABLE} = ?", [str(output.resolve())])
    for block in blocks(sql_file):
        if block.kind != "view":
            continue
        if block.name in TABLES and not _has_files(output, block.name):
            con.register(f"_empty_{block.name}", _empty_table(block.name))
            con.execute(f'CREATE OR REPLACE VIEW "{block.name}" AS SELECT * FROM "_empty_{block.name}"')
        else:
            con.execute(block.sql)
    return con


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the SQL kit's questions over a newsbeam output folder.")
    parser.add_argument("--output", default="output", help="The pipeline's output folder.")
    parser.add_argument("--question", action="append", help="Only this question (repeatable); default all.")
    args = parser.parse_args(argv)
    try:
        con = connect(args.output)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    chosen = {b.name: b for b in blocks() if b.kind == "question"}
    unknown = set(args.question or ()) - set(chosen)
    if unknown:
        print(f"error: unknown question(s) {sorted(unknown)}; known: {sorted(chosen)}", file=sys.stderr)
        return 2
    for name, block in chosen.items():
        if args.question and name not in args.question:
            continue
        print(f"\n== {name}: {block.description}")
        con.sql(block.sql).show(max_width=160)
    return 0


if __name__ == "__main__":
    sys.exit(main())
