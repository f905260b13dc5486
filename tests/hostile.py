"""A deterministic generator of hostile inputs for the batch pipeline (issue 24, item 4).

    expected = generate(folder, seed=0, cap=200_000)

writes a folder of inputs of every awkward shape (binary and truncated files, broken and mixed
encodings, NUL bytes, bodies on both sides of --max_body_bytes, 1 MB lines, deeply nested JSON
and HTML, corrupt and explosive .gz/.bz2/.zst files, file names with newlines, quotes and
non-Latin characters, empty, unreadable and dangling inputs, broken .meta.json sidecars, JSON of
the wrong shape and types, JSONL with blank and broken lines, odd markdown) mixed with ordinary
articles and exact copies of them. It returns what the pipeline must account for: every record
(a file is one record; a JSONL file one per line that is not blank, as transforms/read.py's
_ReadInputFn._lines reads it) with the bytes it was read from, and the outcome of the records
whose outcome is certain.

Each shape lives in its own sub-folder (valid/, binary/, encodings/, …), so a failing run can be
re-run one shape at a time: `python -m tests.hostile OUT_DIR` writes the folder and prints the
record count per shape.

The total record count stays under the driver's default --chunk_records (1,250, blank JSONL lines
included: transforms/inputs.py count_records), so the run is one pipeline and stays fast.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import json
import os
import random
import sys
import zlib
from pathlib import Path
from typing import Any, Optional

KEPT = "kept"  # an article or a duplicate: the input became (a copy of) an article
REJECTED = "rejected"  # a rejected row, whatever its error_type

Key = tuple[str, Optional[int]]  # (input_uri, input_line): how the three tables name an input


@dataclasses.dataclass
class Expected:
    """What a run over the generated folder must account for."""

    records: int = 0
    inputs: dict[Key, bytes] = dataclasses.field(default_factory=dict)  # the bytes each record is read from
    outcomes: dict[Key, str] = dataclasses.field(default_factory=dict)  # KEPT, REJECTED or an error_type, where certain
    shapes: dict[Key, str] = dataclasses.field(default_factory=dict)  # the sub-folder (shape) of each record
    files: set[str] = dataclasses.field(default_factory=set)  # every input file's uri
    not_inputs: set[str] = dataclasses.field(default_factory=set)  # files the reader must skip: hidden, sidecars
    unreadable: bool = False  # whether chmod 000 stopped reads here (it does not for root)

    def per_shape(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for shape in self.shapes.values():
            counts[shape] = counts.get(shape, 0) + 1
        return dict(sorted(counts.items()))


# --- ordinary article text ------------------------------------------------------------------

_PEOPLE = (
    "Vladimir Putin|Kim Jong Un|Olaf Scholz|Emmanuel Macron|Ursula von der Leyen|Joe Biden|"
    "Narendra Modi|Xi Jinping|Giorgia Meloni|Recep Tayyip Erdogan|Luiz Inacio Lula da Silva"
).split("|")
_PLACES = ("Moscow|Pyongyang|Berlin|Paris|Brussels|Kyiv|Tokyo|Nairobi|Brasilia|Ankara").split("|")
_ORGS = ("the United Nations|NATO|Gazprom|the European Commission|Reuters|the World Bank").split("|")
_VERBS = ("met|criticised|visited|signed an agreement with|warned|praised|telephoned").split("|")
_NOUNS = (
    "the summit|the trade talks|a protest|the election|the floods|the ceasefire|the grain deal|"
    "an earthquake|the budget vote|the pipeline project"
).split("|")
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December").split("|")


def _sentence(rng: random.Random) -> str:
    who, verb = rng.choice(_PEOPLE), rng.choice(_VERBS)
    whom = rng.choice(_PEOPLE + _ORGS)
    where, what = rng.choice(_PLACES), rng.choice(_NOUNS)
    shapes = [
        f"{who} {verb} {whom} in {where} on {rng.choice(['Monday', 'Tuesday', 'Friday'])} ahead of {what}.",
        f"Officials in {where} said {what} would continue for {rng.randint(2, 40)} more days.",
        f"According to {rng.choice(_ORGS)}, {rng.randint(3, 900)} people were affected by {what}.",
        f'{who} told reporters that {what} was "{rng.choice(["historic", "a mistake", "overdue", "fragile"])}".',
    ]
    return rng.choice(shapes)


def _body(rng: random.Random, paragraphs: int = 3) -> str:
    return "\n\n".join(" ".join(_sentence(rng) for _ in range(rng.randint(2, 5))) for _ in range(paragraphs))


def _title(rng: random.Random) -> str:
    return f"{rng.choice(_PEOPLE)} and {rng.choice(_PLACES)} Discuss {rng.choice(_NOUNS).title()}"


def _date(rng: random.Random) -> tuple[str, str]:
    """A date as an ISO string and as a text date line."""
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return f"2024-{month:02d}-{day:02d}", f"{_MONTHS[month - 1]} {day}, 2024"


@dataclasses.dataclass
class _Article:
    title: str
    body: str
    iso: str
    line: str
    url: str

    def txt(self) -> bytes:
        return f"{self.title}\n{self.line}\n\n{self.body}\n".encode()

    def md(self) -> bytes:
        return (
            f"# {self.title}\n\nBy Jane Doe\n\n{self.line}\n\n{self.body}\n\nOriginal url: [link]({self.url})\n"
        ).encode()

    def html(self) -> bytes:
        paragraphs = "".join(f"<p>{p}</p>\n" for p in self.body.split("\n\n"))
        return (
            f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{self.title}</title>'
            f'<meta name="author" content="Jane Doe"><meta property="article:published_time" '
            f'content="{self.iso}"></head>\n<body><nav><a href="/">Home</a></nav><article><h1>{self.title}</h1>'
            f"\n{paragraphs}</article><footer>Copyright</footer></body></html>\n"
        ).encode()

    def obj(self) -> dict:
        return {"title": self.title, "text": self.body, "published_at": self.iso, "url": self.url}

    def json(self) -> bytes:
        return json.dumps(self.obj(), ensure_ascii=False).encode()


def _article(rng: random.Random) -> _Article:
    iso, line = _date(rng)
    return _Article(_title(rng), _body(rng), iso, line, f"https://news.example.org/{iso}/{rng.randrange(10**9)}")


def _text_of_bytes(rng: random.Random, size: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz") -> str:
    """Words of `alphabet` letters, exactly `size` UTF-8 bytes (an ASCII letter or two evens out a multi-byte
    alphabet), on one line and without edge spaces, so clean_text leaves it as it is."""
    width = len(alphabet[0].encode())
    assert all(len(c.encode()) == width for c in alphabet) and size > 12
    pool = ["".join(rng.choices(alphabet, k=rng.randint(2, 9))) for _ in range(500)]
    words: list[str] = []
    used = 0
    for word in rng.choices(pool, k=size // (2 * width) + 1):
        need = len(word) * width + (1 if words else 0)
        if used + need > size - 12:
            break
        words.append(word)
        used += need
    room = size - used - (1 if words else 0)  # bytes for the last word
    last = "".join(rng.choices(alphabet, k=room // width))
    words.append(last + "a" * (room - len(last.encode())))
    text = " ".join(words)
    assert len(text.encode()) == size, (len(text.encode()), size)
    return text


# --- the writer -----------------------------------------------------------------------------


class _Writer:
    def __init__(self, folder: Path, rng: random.Random):
        self.root = folder
        self.rng = rng
        self.expected = Expected()

    def _path(self, rel: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _add(self, key: Key, data: bytes, outcome: Optional[str]) -> None:
        assert key not in self.expected.inputs, key
        self.expected.inputs[key] = data
        self.expected.shapes[key] = key[0][len(str(self.root)) + 1 :].split("/", 1)[0]
        self.expected.records += 1
        if outcome is not None:
            self.expected.outcomes[key] = outcome

    def file(self, rel: str, data: bytes, outcome: Optional[str] = None, content: Optional[bytes] = None) -> str:
        """One input file: one record, read as `content` (the decompressed bytes of a compressed file)."""
        path = self._path(rel)
        path.write_bytes(data)
        uri = str(path)
        self.expected.files.add(uri)
        self._add((uri, None), data if content is None else content, outcome)
        return uri

    def lines(
        self, rel: str, data: bytes, outcomes: Optional[dict[int, str]] = None, content: Optional[bytes] = None
    ) -> str:
        """A JSONL file: one record per line that is not blank (bytes.strip()); blank lines count
        in the line numbers."""
        path = self._path(rel)
        path.write_bytes(data)
        uri = str(path)
        self.expected.files.add(uri)
        outcomes = outcomes or {}
        for number, line in enumerate((data if content is None else content).split(b"\n"), start=1):
            if line.strip():
                self._add((uri, number), line.rstrip(b"\r"), outcomes.get(number))
        return uri

    def other(self, rel: str, data: bytes) -> Path:
        """A file that is not an input: hidden, a partial download or a .meta.json sidecar."""
        path = self._path(rel)
        path.write_bytes(data)
        self.expected.not_inputs.add(str(path))
        return path

    def jsonl_of(self, rel: str, rows: list, outcomes: Optional[dict[int, str]] = None, end: bytes = b"\n") -> str:
        """A JSONL file of rows: bytes are written as they are, anything else as one JSON value."""
        lines = [
            r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass")
            for r in rows
        ]
        return self.lines(rel, b"\n".join(lines) + end, outcomes)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """One to three random damages: truncation, flipped bytes, NULs, broken UTF-8, odd code points, re-encoding."""
    for _ in range(rng.randint(1, 3)):
        pos = rng.randrange(len(data) + 1)
        kind = rng.randrange(10)
        if kind == 0:
            data = data[:pos]
        elif kind == 1:
            data = bytearray(data)
            for _ in range(rng.randint(1, 20)):
                if data:
                    data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data)
        elif kind == 2:
            data = data[:pos] + b"\x00" * rng.randint(1, 50) + data[pos:]
        elif kind == 3:
            bad = rng.choice(
                [b"\xc3", b"\x80\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xff\xfe", b"\xe2\x82"]
            )
            data = data[:pos] + bad * rng.randint(1, 5) + data[pos:]
        elif kind == 4:
            odd = rng.choice(
                ["\u200b", "\u202e", "\ufeff", "e\u0301", "\U0001f4f0", "\ud7ff", "\u2028", "\x85", "\r", "\x1b[31m"]
            )
            data = data[:pos] + (odd * rng.randint(1, 30)).encode("utf-8", "surrogatepass") + data[pos:]
        elif kind == 5:
            text = data.decode("utf-8", "replace")
            data = text.encode(
                rng.choice(["latin-1", "cp1251", "utf-16-le", "utf-16-be", "koi8-r", "shift_jis"]), "replace"
            )
        elif kind == 6:
            data = data[:pos] + data[pos // 2 : pos] * rng.randint(1, 4) + data[pos:]
        elif kind == 7:
            data = data[: pos // 2] + data[pos:]
        elif kind == 8:
            data = data.replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n\n", b" "]))
        else:
            data = rng.randbytes(rng.randint(1, 64)) + data
    return data


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value whose keys are often the ones the JSON parser looks for, with values of any type."""
    keys = (
        "title|text|maintext|body|published_at|date_publish|url|authors|source|language|id|headline|date|link|author|x|"
    ).split("|")
    kind = rng.randrange(10 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 12, 1e11 + 1, 1.5, 10**20, -(10**15), 2**63, 1e308])
    if kind in (2, 3, 4):
        return rng.choice(
            [
                "",
                " ",
                "2024-06-12",
                "June 12, 2024",
                "yesterday",
                "0000-00-00",
                "2024-13-45T99:99",
                "https://news.example.org/a",
                "http://[::1",
                "€uro ünïcode",
                "\u0000",
                "\ud83d",
                "🔥" * 5,
                _sentence(rng),
                _body(rng, 1),
                "x" * rng.randint(0, 300),
            ]
        )
    if kind == 5:
        return _body(rng, 2)
    if kind in (6, 7):
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def _deep(open_: str, close: str, depth: int, inner: str = "1") -> bytes:
    return (open_ * depth + inner + close * depth).encode()


# --- the shapes -----------------------------------------------------------------------------


def _valid(w: _Writer) -> list[_Article]:
    """Ordinary articles in every format, and exact copies (byte copies and the same body in another format)."""
    rng = w.rng
    arts = [_article(rng) for _ in range(40)]
    for i, a in enumerate(arts):
        fmt = ["txt", "md", "html", "json"][i % 4]
        w.file(f"valid/{i:02d}-article.{fmt}", getattr(a, fmt)(), KEPT)
    for i in range(0, 40, 5):  # byte copies
        fmt = ["txt", "md", "html", "json"][i % 4]
        w.file(f"valid/copies/{i:02d}-copy.{fmt}", getattr(arts[i], fmt)(), KEPT)
    # the body of a markdown / txt article again, as JSON: the same text, another shape
    for i in range(1, 12, 2):
        w.file(
            f"valid/copies/{i:02d}-as.json",
            json.dumps({"text": arts[i].body, "published_at": arts[i].iso}).encode(),
            KEPT,
        )
    w.jsonl_of(
        "valid/feed.jsonl",
        [a.obj() for a in arts[:10]] + [arts[0].obj(), arts[3].obj()],
        {i: KEPT for i in range(1, 13)},
    )
    w.jsonl_of("valid/feed.ndjson", [_article(rng).obj() for _ in range(8)], {i: KEPT for i in range(1, 9)})
    w.file("valid/UPPER.TXT", arts[2].txt(), KEPT)
    w.file("valid/2024-06-12_dated.txt", _article(rng).txt(), KEPT)
    w.file("valid/dt=2024-02-30/bad-date-in-path.txt", _article(rng).txt(), KEPT)
    return arts


def _binary(w: _Writer, arts: list[_Article]) -> None:
    rng = w.rng
    magic = {
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF",
        "zip": b"PK\x03\x04\x14\x00\x06\x00",
        "elf": b"\x7fELF\x02\x01\x01",
        "parquet": b"PAR1\x15\x04",
        "gzip": b"\x1f\x8b\x08\x00",
        "gif": b"GIF89a\x01\x00",
    }
    for i, (name, head) in enumerate(magic.items()):
        ext = [".txt", ".json", ".md", ".html", ".jsonl"][i % 5]
        data = head + rng.randbytes(rng.randint(10, 3000))
        if ext == ".jsonl":
            w.lines(f"binary/{name}{ext}", data)
        else:
            w.file(f"binary/{name}{ext}", data, "binary_file")
    for i in range(24):  # random bytes, random sizes
        ext = [".txt", ".json", ".md", ".html"][i % 4]
        w.file(f"binary/random-{i:02d}{ext}", rng.randbytes(rng.choice([1, 2, 7, 100, 5000, 40_000])))
    # truncated at a random byte, possibly inside a multi-byte character
    for i, a in enumerate(arts[:16]):
        fmt = ["txt", "md", "html", "json"][i % 4]
        data = getattr(a, fmt)()
        w.file(f"binary/truncated-{i:02d}.{fmt}", data[: rng.randrange(1, len(data))])
    w.file("binary/truncated-utf8.txt", "Zürich – “quoted” news about Київ, 東京 and 🔥".encode()[:-2])
    w.file("binary/all-0xff.txt", b"\xff" * 10_000)
    w.file("binary/all-nul.json", b"\x00" * 4096, "binary_file")


def _encodings(w: _Writer, arts: list[_Article]) -> None:
    a, b = arts[4], arts[5]
    euro = "Ein Bericht über Zürich, São Paulo und Malmö: Die Bürger äußerten sich zur Lage. " * 12
    cyr = "Президент выступил в Москве с заявлением о переговорах. Жители Киева обсуждают новости. " * 12
    cjk = "東京で首相が記者会見を開き、新しい経済政策を発表した。市民の反応はさまざまだった。" * 12
    w.file("encodings/latin-1.txt", euro.encode("latin-1"))
    w.file("encodings/cp1252-quotes.txt", ("“Smart quotes” — and dashes … " + euro).encode("cp1252"))
    w.file("encodings/cp1251.txt", cyr.encode("cp1251"))
    w.file("encodings/koi8-r.md", ("# Новости\n\n" + cyr).encode("koi8-r"))
    w.file("encodings/shift-jis.txt", cjk.encode("shift_jis"))
    w.file("encodings/gb18030.txt", "北京消息，官员周一表示，谈判将继续进行。".encode("gb18030") * 20)
    w.file("encodings/utf-8-bom.txt", b"\xef\xbb\xbf" + a.txt(), KEPT)
    w.file("encodings/utf-16-le-bom.txt", b"\xff\xfe" + b.txt().decode().encode("utf-16-le"), KEPT)
    w.file("encodings/utf-16-be-bom.md", b"\xfe\xff" + arts[6].md().decode().encode("utf-16-be"), KEPT)
    w.file("encodings/utf-16-le-nobom.txt", arts[7].txt().decode().encode("utf-16-le"), "binary_file")
    w.file("encodings/utf-16-be-nobom.json", arts[7].json().decode().encode("utf-16-be"), "binary_file")
    w.file("encodings/utf-32-bom.json", arts[8].json().decode().encode("utf-32"), KEPT)
    w.file(
        "encodings/utf-16-bom-odd-length.txt", b"\xff\xfe" + "Odd length".encode("utf-16-le") + b"\x41", "undecodable"
    )
    w.file("encodings/utf-16-bom-lone-surrogate.txt", b"\xff\xfe" + b"A\x00\x00\xd8B\x00", "undecodable")
    w.file("encodings/utf-8-bom-then-latin-1.txt", b"\xef\xbb\xbf" + euro.encode("latin-1"), "undecodable")
    w.file("encodings/bom-only.txt", b"\xef\xbb\xbf", "blank_file")
    w.file("encodings/utf-16-bom-only.txt", b"\xff\xfe", "blank_file")
    broken = {
        "lone-continuation": b"\x80\xbf",
        "overlong-slash": b"\xc0\xaf",
        "surrogate": b"\xed\xa0\x80",
        "above-max": b"\xf4\x90\x80\x80",
        "cut-sequence": b"\xe2\x82",
        "invalid-lead": b"\xfe\xff",
    }
    for name, bad in broken.items():
        text = arts[9].txt()
        w.file(f"encodings/broken-{name}.txt", text[:200] + bad + text[200:])
        w.file(
            f"encodings/broken-{name}.json", b'{"title": "T' + bad + b'", "text": "' + bad * 3 + b' body text here"}'
        )
    mixed = euro.encode("utf-8") + euro.encode("latin-1") + cyr.encode("utf-8") + cyr.encode("cp1251")
    w.file("encodings/mixed-utf8-latin1-cp1251.txt", mixed)
    w.file("encodings/mixed-utf8-utf16.txt", a.txt()[:300] + "utf-16 part".encode("utf-16-le") + a.txt()[300:])
    w.jsonl_of(
        "encodings/mixed-lines.jsonl",
        [
            arts[10].obj(),
            json.dumps({"text": euro}, ensure_ascii=False).encode("latin-1"),
            json.dumps({"text": cyr}, ensure_ascii=False).encode("cp1251"),
            json.dumps({"text": cjk}, ensure_ascii=False).encode("utf-8"),
            json.dumps({"text": "utf-16 line"}).encode("utf-16-le"),  # its NUL bytes are in the line, its \n is split
            b'{"text": "\xed\xa0\x80 surrogate bytes"}',
            json.dumps({"text": "escaped lone surrogate \\ud800 in the body"}).encode().replace(b"\\\\", b"\\"),
            json.dumps({"text": "a body", "title": "escaped lone surrogate \\udfff"}).encode().replace(b"\\\\", b"\\"),
        ],
        {1: KEPT},
    )
    w.lines(
        "encodings/utf-16-bom.jsonl",
        b"\xff\xfe" + (arts[11].json() + b"\n" + arts[12].json() + b"\n").decode().encode("utf-16-le"),
    )


def _nul(w: _Writer, arts: list[_Article]) -> None:
    body = arts[13].txt()
    w.file("nul/leading-nul.txt", b"\x00" + body, "binary_file")
    w.file("nul/nul-in-middle.txt", body[:100] + b"\x00" + body[100:], "binary_file")
    # after the 8 KiB sniff window
    w.file("nul/nul-after-8k.txt", b"The long text. " * 600 + b"\x00\x00\x00" + body)
    w.file(
        "nul/escaped-nul.json",
        json.dumps({"title": "Nul\u0000title", "text": "Body with a \u0000 NUL escape in it."}).encode(),
    )
    w.file("nul/only-escaped-nul.json", json.dumps({"text": "\u0000\u0000\u0000"}).encode(), "missing_body")
    w.jsonl_of(
        "nul/nul-lines.jsonl",
        [
            arts[14].obj(),
            b"\x00",
            b"\x00" * 100 + arts[15].json(),
            arts[15].json() + b"\x00",
            json.dumps({"text": "\u0000 escaped"}).encode(),
        ],
        {1: KEPT},
    )


def _size(w: _Writer, cap: int) -> None:
    """Bodies just under, at and just over --max_body_bytes; inputs at and over the read limit
    (4 × cap); 1 MB lines."""
    rng, limit = w.rng, 4 * cap
    ascii_, cyrillic = "abcdefghijklmnopqrstuvwxyz", "абвгдежзийклмнопрстуфхцчшщыэюя"
    under, at = _text_of_bytes(rng, cap - 2, ascii_), _text_of_bytes(rng, cap, ascii_)
    w.file("size/body-cap-minus-2.txt", under.encode(), KEPT)
    w.file("size/body-at-cap.txt", at.encode(), KEPT)
    w.file("size/body-cap-plus-1.txt", _text_of_bytes(rng, cap + 1, ascii_).encode(), "body_too_large")
    w.file("size/body-cyrillic-under.txt", _text_of_bytes(rng, cap - 2, cyrillic).encode(), KEPT)
    w.file("size/body-cyrillic-over.txt", _text_of_bytes(rng, cap + 2, cyrillic).encode(), "body_too_large")
    w.file("size/body-under-cap-copy.json", json.dumps({"title": "Copy", "text": under}).encode(), KEPT)
    w.file(
        "size/body-over-cap.json",
        json.dumps({"title": "Big", "text": under + " more words"}).encode(),
        "body_too_large",
    )
    w.file("size/input-at-read-limit.txt", _text_of_bytes(rng, limit, ascii_).encode(), "body_too_large")
    w.file("size/input-over-read-limit.txt", _text_of_bytes(rng, limit + 1, ascii_).encode(), "input_too_large")
    w.file("size/one-megabyte-line.txt", _text_of_bytes(rng, 1 << 20, ascii_).encode(), "input_too_large")
    w.file("size/one-megabyte-no-spaces.md", b"x" * (1 << 20), "input_too_large")
    small = _article(rng)
    line_at = json.dumps({"text": _text_of_bytes(rng, limit - 12, ascii_)}).encode()
    line_over = json.dumps({"text": _text_of_bytes(rng, limit - 11, ascii_)}).encode()
    assert (len(line_at), len(line_over)) == (limit, limit + 1)
    w.jsonl_of(
        "size/lines-at-and-over-read-limit.jsonl",
        [small.obj(), line_at, line_over, small.obj()],
        {1: KEPT, 2: "body_too_large", 3: "input_too_large", 4: KEPT},
    )
    w.jsonl_of(
        "size/one-megabyte-line.jsonl",
        [json.dumps({"text": "x" * (1 << 20)}).encode(), _article(rng).obj()],
        {1: "input_too_large", 2: KEPT},
    )
    w.jsonl_of("size/one-megabyte-blank-line.jsonl", [b" " * (1 << 20), _article(rng).obj()], {2: KEPT})
    w.file(
        "size/huge.json",
        json.dumps({"title": "Huge", "text": "t", "extra": ["filler " * 10] * 20_000}).encode(),
        "input_too_large",
    )
    big = json.dumps({"text": _article(rng).body, "extra": {str(i): i for i in range(40_000)}}).encode()
    assert cap < len(big) < limit, len(big)
    w.file("size/big-but-under-limit.json", big, KEPT)
    # 720 KB under the read limit, a 90,000-line body over the cap
    w.file("size/many-short-lines.txt", ("A line.\n" * 90_000).encode(), "body_too_large")
    w.file("size/only-newlines.txt", b"\n" * 500_000, "blank_file")


def _json(w: _Writer, arts: list[_Article]) -> None:
    rng = w.rng
    body = arts[16].body
    shapes: dict[str, tuple[Any, Optional[str]]] = {
        "list": ([arts[16].obj(), arts[17].obj()], "not_an_article"),
        "empty-list": ([], "not_an_article"),
        "number": (42, "not_an_article"),
        "float": (1.5e308, "not_an_article"),
        "string": ("just a string", "not_an_article"),
        "null": (None, "not_an_article"),
        "true": (True, "not_an_article"),
        "empty-object": ({}, "missing_body"),
        "text-number": ({"text": 12}, "invalid_field"),
        "text-object": ({"text": {}}, "invalid_field"),
        "text-list": ({"text": ["a", "b"]}, "invalid_field"),
        "text-empty-falls-to-body": ({"text": "", "body": body}, KEPT),
        "title-object": ({"title": {}, "text": _body(rng)}, "invalid_field"),
        "title-object-with-name": ({"title": {"name": "Named"}, "text": _body(rng)}, KEPT),
        "title-list-of-numbers": ({"title": [1, 2], "text": _body(rng)}, "invalid_field"),
        "title-bool": ({"title": True, "text": _body(rng)}, "invalid_field"),
        "title-float": ({"title": 1.5, "text": _body(rng)}, "invalid_field"),
        "published-12": ({"published_at": 12, "text": _body(rng)}, KEPT),
        "published-object": ({"published_at": {}, "text": _body(rng)}, KEPT),
        "published-list": ({"published_at": ["2024-06-12"], "text": _body(rng)}, KEPT),
        "published-bool": ({"published_at": True, "text": _body(rng)}, KEPT),
        "published-garbage": ({"published_at": "not a date at all 2024", "text": _body(rng)}, KEPT),
        "published-huge-float": ({"published_at": 1e300, "text": _body(rng)}, None),
        "published-huge-int": ({"published_at": 10**30, "text": _body(rng)}, None),
        "published-negative": ({"published_at": -1e20, "text": _body(rng)}, None),
        "published-year-1-east": ({"published_at": "0001-01-01T00:00:00+01:00", "text": _body(rng)}, None),
        "published-year-9999-west": ({"published_at": "9999-12-31T23:59:59-05:00", "text": _body(rng)}, None),
        "published-year-1": ({"published_at": "0001-01-01", "text": _body(rng)}, None),
        "published-year-9999": ({"published_at": "9999-12-31T23:59:59Z", "text": _body(rng)}, None),
        "published-future": ({"published_at": "2999-01-01", "text": _body(rng)}, KEPT),
        "url-number": ({"url": 12, "text": _body(rng)}, KEPT),
        "url-list": ({"url": ["https://a.example"], "text": _body(rng)}, KEPT),
        "url-bad-ipv6": ({"url": "http://[::1", "text": _body(rng)}, None),
        "url-huge": ({"url": "https://example.org/" + "a" * 100_000, "text": _body(rng)}, None),
        "authors-numbers": ({"authors": [1, 2], "text": _body(rng)}, "invalid_field"),
        "authors-nested": ({"authors": [["a"]], "text": _body(rng)}, "invalid_field"),
        "authors-lone-surrogate": ({"authors": "\ud800 Jane", "text": _body(rng)}, None),
        "source-lone-surrogate": ({"source": "news\udfff.example", "text": _body(rng)}, None),
        "language-number": ({"language": 5, "text": _body(rng)}, KEPT),
        "id-float": ({"id": 1.5, "text": _body(rng)}, "invalid_field"),
        "id-huge-int": ({"id": 10**100, "text": _body(rng)}, None),
        "every-alias-wrong": (
            {k: {} for k in ["title", "maintext", "published_at", "url", "authors", "source", "language", "id"]},
            "invalid_field",
        ),
        "unicode-keys": ({"тitle": "homoglyph key", "техт": body}, "missing_body"),
    }
    for name, (value, outcome) in shapes.items():
        # ASCII: a lone surrogate is a \\ud800 escape
        w.file(f"json/{name}.json", json.dumps(value).encode(), outcome)
    raw: dict[str, tuple[bytes, Optional[str]]] = {
        "nan-date": (b'{"published_at": NaN, "text": "A body with a NaN date in it."}', None),
        "infinity-date": (b'{"published_at": Infinity, "text": "A body with an infinite date."}', None),
        "duplicate-keys": (b'{"text": "first", "text": "second body wins"}', KEPT),
        "trailing-garbage": (arts[18].json() + b" trailing", "malformed_json"),
        "two-objects": (arts[18].json() + arts[19].json(), "malformed_json"),
        "comments": (b"// a comment\n" + arts[18].json(), "malformed_json"),
        "single-quotes": (b"{'text': 'single quoted'}", "malformed_json"),
        "unterminated": (b'{"text": "never ends', "malformed_json"),
        "only-brace": (b"{", "malformed_json"),
        "deep-array-100k": (_deep("[", "]", 100_000), None),
        "deep-object-100k": (_deep('{"a":', "}", 100_000), None),
        "deep-inside-text": (b'{"text": ' + _deep("[", "]", 100_000, '"x"') + b"}", None),
        "deep-array-500": (_deep("[", "]", 500), "not_an_article"),
        "deep-unclosed-100k": (b"[" * 100_000, None),
        "huge-number": (b'{"text": "A body.", "id": 1' + b"0" * 5000 + b"}", None),
        "lone-surrogate-title": (b'{"title": "bad \\ud800 title", "text": "A fine body of text about Moscow."}', None),
        "lone-surrogate-body": (b'{"text": "A body \\udc00 with a lone low surrogate."}', None),
        "escaped-controls": (b'{"title": "\\u0007\\u001b[31m", "text": "\\u0001\\u0002 Body text\\u007f here."}', None),
        "bom-json": (b"\xef\xbb\xbf" + arts[19].json(), KEPT),
    }
    for name, (data, outcome) in raw.items():
        w.file(f"json/{name}.json", data, outcome)
    for i in range(40):
        w.file(
            f"json/random-{i:02d}.json",
            json.dumps(_random_json(rng), ensure_ascii=False).encode("utf-8", "surrogatepass"),
        )


def _jsonl(w: _Writer, arts: list[_Article]) -> None:
    rng = w.rng
    good = [a.obj() for a in arts[20:26]]
    rows: list = []
    outcomes: dict[int, str] = {}
    # valid rows (with exact copies), blank and white-space lines, broken lines, wrong shapes
    for i in range(150):
        kind = rng.randrange(10)
        if kind < 3:
            rows.append(rng.choice(good))
            outcomes[len(rows)] = KEPT
        elif kind == 3:
            rows.append(rng.choice([b"", b" ", b"\t", b"\r", b" \t \r", b"\x0b\x0c"]))
        elif kind == 4:
            rows.append(
                rng.choice(
                    [
                        b'{"text": "cut',
                        b"{",
                        b"}",
                        b"not json",
                        b"[1,",
                        b'{"a":1}}',
                        b"\xff\xfe",
                        b"\x00",
                        b"NaN",
                        b'"unterminated',
                    ]
                )
            )
            outcomes[len(rows)] = "malformed_json" if rows[-1] not in (b"\xff\xfe", b"\x00", b"NaN") else None
        elif kind == 5:
            rows.append(rng.choice([[], [good[0]], 1, "s", None, True]))
            outcomes[len(rows)] = "not_an_article"
        elif kind == 6:
            rows.append({"text": rng.choice([12, {}, [1], True])})
            outcomes[len(rows)] = "invalid_field"
        else:
            rows.append(_random_json(rng))
    outcomes = {k: v for k, v in outcomes.items() if v is not None}
    w.jsonl_of("jsonl/mixed.jsonl", rows, outcomes)
    w.jsonl_of("jsonl/no-final-newline.jsonl", [good[0], good[1]], {1: KEPT, 2: KEPT}, end=b"")
    w.lines(
        "jsonl/crlf.jsonl",
        b"\r\n".join(json.dumps(o).encode() for o in good) + b"\r\n\r\n",
        {i: KEPT for i in range(1, 7)},
    )
    w.lines("jsonl/cr-only.jsonl", b"\r".join(json.dumps(o).encode() for o in good[:3]) + b"\r", {1: "malformed_json"})
    w.lines("jsonl/blank-only.jsonl", b"\n \n\t\n\r\n" * 10)
    w.lines("jsonl/empty.jsonl", b"")
    w.lines("jsonl/many-blank-lines-then-one.jsonl", b"\n" * 60 + json.dumps(good[2]).encode() + b"\n" * 20, {61: KEPT})
    w.lines(
        "jsonl/unicode-line-separators.jsonl",
        json.dumps({"text": "Line\u2028separated\u2029paragraphs\x85here."}, ensure_ascii=False).encode() + b"\n",
        {1: KEPT},
    )
    w.lines("jsonl/pretty-printed.jsonl", json.dumps(good[3], indent=2).encode() + b"\n")
    w.lines("jsonl/deep-line.jsonl", _deep("[", "]", 100_000) + b"\n" + json.dumps(good[4]).encode() + b"\n", {2: KEPT})
    w.lines("jsonl/UPPER.JSONL", json.dumps(good[5]).encode() + b"\n", {1: KEPT})
    w.file(
        "jsonl/single-object.json",
        json.dumps(good[0]).encode() + b"\n" + json.dumps(good[1]).encode(),
        "malformed_json",
    )
    for i in range(3):
        mutated = [_mutate(rng, json.dumps(rng.choice(good)).encode()).replace(b"\n", b" ") for _ in range(20)]
        w.lines(f"jsonl/mutants-{i}.jsonl", b"\n".join(mutated) + b"\n")


def _html(w: _Writer, arts: list[_Article], cap: int) -> None:
    rng = w.rng
    text = "<p>" + arts[26].body.replace("\n\n", "</p><p>") + "</p>"
    w.file("html/nested-100k-div-unclosed.html", b"<html><body>" + b"<div>" * 100_000 + text.encode())
    w.file("html/nested-100k-b.html", b"<html><body>" + _deep("<b>", "</b>", 100_000, text) + b"</body></html>")
    w.file(
        "html/nested-100k-div.html",
        b"<html><body>" + _deep("<div>", "</div>", 100_000, text) + b"</body></html>",
        "input_too_large",
    )
    w.file(
        "html/nested-10k-table.html",
        b"<html><body>" + _deep("<table><tr><td>", "</td></tr></table>", 10_000, text) + b"</body></html>",
    )
    w.file("html/siblings-20k.html", b"<html><body><article>" + b"<p>Para.</p>" * 20_000 + b"</article></body></html>")
    w.file("html/unclosed-comment.html", b"<html><body><!-- " + arts[27].html())
    w.file(
        "html/entity-flood.html",
        b"<html><body><p>" + b"&amp;&lt;&#x1F525;&#0;&#xD800;&bogus;" * 15_000 + b"</p></body></html>",
    )
    w.file(
        "html/script-only.html",
        b"<html><head><script>" + b"var a = 1;" * 1000 + b"</script></head><body></body></html>",
    )
    w.file("html/empty-html.html", b"<html></html>")
    w.file("html/not-html.html", b"plain text in an .html file, with no markup at all")
    w.file("html/cdata-and-pi.html", b"<?xml version='1.0'?><![CDATA[" + arts[27].txt() + b"]]><html/>")
    w.file(
        "html/latin-1-meta.html",
        (
            "<html><head><meta charset='iso-8859-1'></head><body><article><p>"
            + "Ein Bericht über Zürich und Malmö. " * 40
            + "</p></article></body></html>"
        ).encode("latin-1"),
    )
    w.file("html/doctype-in-txt.txt", arts[28].html(), KEPT)
    w.file("html/valid-article.htm", arts[29].html(), KEPT)
    w.file(
        "html/body-over-cap.html",
        b"<html><body><article><p>" + _text_of_bytes(rng, cap + 5000).encode() + b"</p></article></body></html>",
    )
    w.file(
        "html/attribute-bomb.html",
        b"<html><body><p " + b" ".join(b"a%d=x" % i for i in range(20_000)) + b">Text here.</p></body></html>",
    )
    w.file(
        "html/weird-tags.html",
        b"<html><body><svg><math><xmp><plaintext>" + arts[30].txt() + b"</plaintext></body></html>",
    )


def _compressed(w: _Writer, arts: list[_Article]) -> None:
    art, lines = arts[31], b"\n".join(a.json() for a in arts[32:36]) + b"\n"
    w.file("compressed/valid.txt.gz", gzip.compress(art.txt(), mtime=0), KEPT, art.txt())
    w.file("compressed/valid.json.bz2", bz2.compress(arts[32].json()), KEPT, arts[32].json())
    w.lines("compressed/valid.jsonl.gz", gzip.compress(lines, mtime=0), {i: KEPT for i in range(1, 5)}, lines)
    w.lines("compressed/valid.jsonl.bz2", bz2.compress(lines), {i: KEPT for i in range(1, 5)}, lines)
    w.file("compressed/copy-of-valid.md.gz", gzip.compress(arts[33].md(), mtime=0), KEPT, arts[33].md())
    gz = gzip.compress(arts[34].txt() * 20, mtime=0)
    w.file("compressed/corrupt-middle.txt.gz", gz[:30] + b"\xff" * 40 + gz[70:], REJECTED, arts[34].txt() * 20)
    w.file("compressed/corrupt-header.txt.gz", b"\x1f\x8b" + b"\x00" * 30, REJECTED, b"")
    # a JSONL file is read line by line, and counted before the run (count_records): neither gets a line of this one
    w.file("compressed/corrupt-header.jsonl.gz", b"\x1f\x8b" + b"\x00" * 30, REJECTED, b"")
    w.file("compressed/not-gzip.txt.gz", arts[34].txt(), REJECTED, arts[34].txt())
    w.file("compressed/truncated.txt.gz", gz[: len(gz) // 2], REJECTED, arts[34].txt() * 20)
    bz = bz2.compress(arts[35].txt() * 20)
    w.file("compressed/corrupt.txt.bz2", bz[:10] + b"\x00" * 40 + bz[50:], REJECTED, arts[35].txt() * 20)
    w.file("compressed/truncated.txt.bz2", bz[: len(bz) // 2], REJECTED, arts[35].txt() * 20)
    w.file("compressed/empty.txt.gz", b"", "empty_file", b"")
    w.file("compressed/empty.txt.bz2", b"", "empty_file", b"")
    w.lines("compressed/empty.jsonl.gz", b"", None, b"")
    bomb = b"a" * (20 << 20)  # 20 MB of one letter: about 1000 times its compressed size
    gz_bomb, bz_bomb = gzip.compress(bomb, 9, mtime=0), bz2.compress(bomb, 9)
    assert len(bomb) > 900 * len(gz_bomb) and len(bomb) > 1000 * len(bz_bomb), (len(gz_bomb), len(bz_bomb))
    w.file("compressed/bomb.txt.gz", gz_bomb, "input_too_large", bomb)
    w.file("compressed/bomb.html.bz2", bz_bomb, "input_too_large", bomb)
    w.lines("compressed/bomb-one-line.jsonl.gz", gz_bomb, {1: "input_too_large"}, bomb)
    spaces = b" " * (20 << 20)
    w.file("compressed/bomb-of-spaces.txt.gz", gzip.compress(spaces, 9, mtime=0), "input_too_large", spaces)
    two = gzip.compress(arts[36].txt()[:200], mtime=0) + gzip.compress(arts[36].txt()[200:], mtime=0)
    w.file("compressed/two-members.txt.gz", two, None, arts[36].txt())
    w.file("compressed/no-inner-extension.gz", gzip.compress(art.txt(), mtime=0), "unsupported_extension", art.txt())
    w.file(
        "compressed/archive.tar.gz",
        gzip.compress(b"ustar" + bytes(500), mtime=0),
        "unsupported_extension",
        b"ustar" + bytes(500),
    )
    w.file("compressed/raw-deflate.txt.deflate", zlib.compress(arts[37].txt()), None, arts[37].txt())
    try:
        import zstandard
    except ImportError:
        return
    zst = zstandard.ZstdCompressor().compress(arts[38].txt())
    w.file("compressed/valid.txt.zst", zst, KEPT, arts[38].txt())
    w.file("compressed/corrupt.txt.zst", zst[:8] + b"\xee" * 20 + zst[28:], REJECTED, arts[38].txt())


def _names(w: _Writer) -> None:
    rng = w.rng
    names = [
        "line\nbreak.txt",
        "carriage\rreturn.txt",
        "tab\there.txt",
        "with  spaces .txt",
        " leading-space.txt",
        'it\'s "quoted".md',
        "back\\slash.txt",
        "новости.txt",
        "新闻报道.md",
        "📰🔥 breaking.json",
        "خبر عاجل.txt",
        "cafe\u0301-nfd.txt",
        "caf\u00e9-nfc.txt",
        "[glob]*?.txt",
        "-rf.txt",
        "%20percent%2F.txt",
        "semi;colon&amp.html",
        "dollar$HOME.txt",
        "star*.jsonl",
        "ü" * 120 + ".txt",
        "a.txt.json",
        "no-extension",
        "trailing-dot.",
        "x.meta.json.txt",
        "colon:name.txt",
        "dt=2024-06-12/in-dated-folder.txt",
        "sub dir with spaces/nested/deeper/file.md",
        "папка/файл.json",
        "目录/文件.txt",
    ]
    for name in names:
        a = _article(rng)
        ext = os.path.splitext(name)[1].lower()
        if ext == ".jsonl":
            w.jsonl_of(f"names/{name}", [a.obj()], {1: KEPT})
        elif ext in (".txt", ".md", ".json", ".html"):
            data = {".txt": a.txt, ".md": a.md, ".json": a.json, ".html": a.html}[ext]()
            w.file(f"names/{name}", data, KEPT)
        else:
            w.file(f"names/{name}", a.txt(), "unsupported_extension")
    for hidden in [
        ".hidden.txt",
        "_underscore.txt",
        "backup.txt~",
        "download.txt.tmp",
        "download.txt.part",
        ".git/objects/pack.txt",
        "_staging/staged.json",
        "orphan.txt.meta.json",
        "report.meta.json",
    ]:
        w.other(f"names/{hidden}", _article(rng).txt())


def _sidecars(w: _Writer) -> None:
    rng = w.rng
    sidecars: dict[str, tuple[bytes, Optional[str]]] = {
        "not-json": (b"{title: nope", "malformed_json"),
        "list": (b"[1, 2]", "not_an_article"),
        "null": (b"null", "not_an_article"),
        "number": (b"12", "not_an_article"),
        "published-int": (b'{"published_at": 12}', "invalid_field"),
        "title-object": (b'{"title": {}}', "invalid_field"),
        "extra-field": (b'{"foo": 1}', "invalid_field"),
        "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "malformed_json"),
        "latin-1": ('{"title": "Zürich"}'.encode("latin-1"), KEPT),
        "utf-16": ('{"title": "Sixteen"}'.encode("utf-16"), "malformed_json"),
        "empty": (b"", KEPT),
        "whitespace": (b"  \n ", "malformed_json"),
        "garbage-date": (b'{"published_at": "the day after tomorrow"}', KEPT),
        "year-1-date": (b'{"published_at": "0001-01-01T00:00:00+05:00"}', None),
        "bad-url": (b'{"url": "http://[::1"}', None),
        "lone-surrogate-title": (b'{"title": "\\ud800"}', None),
        "deep": (_deep('{"a":', "}", 100_000), None),
        "huge": (b'{"note": "' + b"n" * 3_000_000 + b'"}', KEPT),
        "valid": (b'{"title": "From the sidecar", "published_at": "2024-06-01", "source": "sidecar.example"}', KEPT),
    }
    for name, (meta, outcome) in sidecars.items():
        w.file(f"sidecars/{name}.txt", _article(rng).txt(), outcome)
        w.other(f"sidecars/{name}.txt.meta.json", meta)
    w.jsonl_of("sidecars/lines-ignore-sidecars.jsonl", [_article(rng).obj()], {1: KEPT})
    w.other("sidecars/lines-ignore-sidecars.jsonl.meta.json", b"broken {")
    w.file(
        "sidecars/gz-with-sidecar.txt.gz",
        gzip.compress(b"Body of a gzipped article, long enough to be one.", mtime=0),
        "malformed_json",
        b"Body of a gzipped article, long enough to be one.",
    )
    w.other("sidecars/gz-with-sidecar.txt.gz.meta.json", b"{broken")
    w.file("sidecars/sidecar-is-a-folder.txt", _article(rng).txt())
    w.file("sidecars/sidecar-is-a-folder.txt.meta.json/inside.txt", _article(rng).txt(), KEPT)
    w.file("sidecars/sidecar-dangles.txt", _article(rng).txt(), KEPT)
    os.symlink("nowhere.meta.json", w.root / "sidecars/sidecar-dangles.txt.meta.json")
    w.expected.not_inputs.add(str(w.root / "sidecars/sidecar-dangles.txt.meta.json"))


def _empty(w: _Writer) -> None:
    for ext in [".txt", ".md", ".html", ".json", ".htm", ".markdown", ".text"]:
        w.file(f"empty/empty{ext}", b"", "empty_file")
    for i, ws in enumerate([b" ", b"\n", b"\r\n\r\n", b"\t \t\n  \n", " \u3000\u00a0\u2003\n".encode()]):
        w.file(f"empty/white-{i}.txt", ws, "blank_file")
        w.file(f"empty/white-{i}.json", ws, "blank_file")
    # white space, but control characters too
    w.file("empty/vertical-tab-form-feed.txt", b"\x0b\x0c\n")
    w.lines("empty/white.jsonl", b" \n\t\n\r\n")
    w.lines("empty/empty.ndjson", b"")
    w.file("empty/zero-width.txt", "\u200b\u200c\u200d\u2060".encode())
    w.file("empty/controls-only.txt", b"\x01\x02\x03\x1b\x7f" * 10, "binary_file")
    w.file("empty/title-only.md", b"# Just a title\n", "missing_body")
    w.file("empty/images-only.md", b"![a](x.png)\n\n![b](y.png)\n", "missing_body")
    w.file("empty/empty-text.json", b'{"text": "", "title": "Nothing"}', "missing_body")
    w.file("empty/space-text.json", b'{"text": "   \\n\\t  ", "title": "Nothing"}', "missing_body")


def _unreadable(w: _Writer) -> None:
    rng = w.rng
    locked = w.file("unreadable/chmod-000.txt", _article(rng).txt())
    locked_lines = w.file("unreadable/chmod-000.jsonl", json.dumps(_article(rng).obj()).encode() + b"\n")
    for path in (locked, locked_lines):
        os.chmod(path, 0)
    try:
        with open(locked, "rb"):
            pass
    except PermissionError:
        w.expected.unreadable = True
    outcome = "read_failed" if w.expected.unreadable else KEPT
    w.expected.outcomes[(locked, None)] = outcome
    if not w.expected.unreadable:  # root reads it: the JSONL file is lines after all
        data = w.expected.inputs.pop((locked_lines, None))
        del w.expected.shapes[(locked_lines, None)]
        w.expected.records -= 1
        w._add((locked_lines, 1), data.rstrip(b"\n"), KEPT)
    else:
        w.expected.outcomes[(locked_lines, None)] = "read_failed"
    for name in ["dangling.txt", "dangling.jsonl", "dangling.json.gz"]:
        path = w._path(f"unreadable/{name}")
        os.symlink(f"/nonexistent/{name}", path)
        w.expected.files.add(str(path))
        w._add((str(path), None), b"", "read_failed")
    loop = w._path("unreadable/loop.txt")
    os.symlink("loop.txt", loop)
    w.expected.files.add(str(loop))
    w._add((str(loop), None), b"", "read_failed")
    target = w.root / "valid/00-article.txt"
    link = w._path("unreadable/link-to-valid.txt")
    os.symlink(target, link)
    w.expected.files.add(str(link))
    w._add((str(link), None), target.read_bytes(), KEPT)
    # os.walk does not follow it: not inputs
    os.symlink(w.root / "valid", w._path("unreadable/link-to-folder"))
    # a folder named like a file
    w.file("unreadable/folder.txt/inside.md", _article(rng).md(), KEPT)


def _markdown(w: _Writer) -> None:
    rng = w.rng
    body = _body(rng)
    docs: dict[str, tuple[str, Optional[str]]] = {
        "javascript-link": (f"# Title\n\n[click](javascript:alert(1)) {body}\n", KEPT),
        "empty-link": (f"# Title\n\n[x](<>) and [](  ) {body}\n", KEPT),
        "nested-brackets": ("[" * 10_000 + "text" + "](" * 5_000 + "\n\n" + body, None),
        "undefined-reference": (f"# T\n\n[foo][bar] [baz][] {body}\n", KEPT),
        "bad-ipv6-original-url": (f"# T\n\n{body}\n\nOriginal url: [here](http://[::1)\n", None),
        "bad-ipv6-autolink": (f"# T\n\n{body}\n\nOriginal url: <http://[bad>\n", None),
        "original-url-then-link": (f"# T\n\n{body}\n\nOriginal url:\n\n[http://[oops](http://[oops)\n", None),
        "huge-url": (f"# T\n\n{body}\n\nOriginal url: [x](https://example.org/{'a' * 200_000})\n", None),
        "emphasis-bomb": ("*a " * 50_000 + "\n\n" + body, None),
        "underscore-bomb": ("_" * 100_000 + "\n\n" + body, None),
        "deep-blockquote": (">" * 10_000 + " " + body, None),
        "deep-list": ("".join("  " * i + "- item\n" for i in range(400)) + "\n" + body, None),
        "html-in-md": (f"# T\n\n<script>alert(1)</script>\n\n<div>{body}</div>\n", None),
        "link-reference-flood": (
            "".join(f"[r{i}]: http://example.org/{i}\n" for i in range(20_000)) + "\n" + body,
            KEPT,
        ),
        "byline-only": ("# T\n\nBy Someone\n\nJune 12, 2024\n", "missing_body"),
        "backticks": ("`" * 50_000 + "\n\n" + body, None),
        "setext-and-atx": (f"Title\n=====\n\n## Sub\n\n{body}\n", KEPT),
        "md-in-txt": (f"# Heading In Text\n\n{body}\n", KEPT),
    }
    for name, (text, outcome) in docs.items():
        w.file(f"markdown/{name}.{'txt' if name.endswith('-txt') else 'md'}", text.encode(), outcome)


def _unsupported(w: _Writer) -> None:
    rng = w.rng
    for ext in [
        ".pdf",
        ".docx",
        ".xml",
        ".csv",
        ".rtf",
        ".rst",
        ".yaml",
        ".jpg",
        ".jsonld",
        ".json5",
        ".htmlx",
        ".txt2",
        ".Md~x",
    ]:
        w.file(f"unsupported/article{ext}", _article(rng).txt(), "unsupported_extension")
    w.file("unsupported/binary.exe", b"\x7fELF" + bytes(200), "unsupported_extension")
    w.file("unsupported/empty.csv", b"", "unsupported_extension")
    w.file("unsupported/README", b"no extension at all", "unsupported_extension")


def _mutants(w: _Writer, arts: list[_Article]) -> None:
    """Ordinary articles, each damaged at random (_mutate), under random supported and unsupported extensions."""
    rng = w.rng
    for i in range(90):
        a = rng.choice(arts)
        fmt = rng.choice(["txt", "md", "html", "json"])
        ext = rng.choice([fmt] * 6 + ["htm", "markdown", "text", "xml"])
        w.file(f"mutants/{i:03d}.{ext}", _mutate(rng, getattr(a, fmt)()))


def generate(folder: Path, seed: int = 0, cap: int = 200_000) -> Expected:
    """Write the hostile inputs into `folder` (created; must not exist yet) and return what a run must account for.

    `cap` is the run's --max_body_bytes: bodies are made on both sides of it and inputs on both sides of the
    reader's limit (4 × cap, transforms/ingest.py). The same seed writes the same bytes.
    """
    # the uris the driver reports: absolute, symlinks not resolved
    folder = Path(os.path.abspath(folder))
    folder.mkdir(parents=True)
    w = _Writer(folder, random.Random(seed))
    arts = _valid(w)
    _binary(w, arts)
    _encodings(w, arts)
    _nul(w, arts)
    _size(w, cap)
    _json(w, arts)
    _jsonl(w, arts)
    _html(w, arts, cap)
    _compressed(w, arts)
    _names(w)
    _sidecars(w)
    _empty(w)
    _unreadable(w)
    _markdown(w)
    _unsupported(w)
    _mutants(w, arts)
    return w.expected


def main(argv: list[str]) -> None:
    """`python -m tests.hostile OUT_DIR [SEED]`: write the inputs and print the records per shape."""
    expected = generate(Path(argv[0]), int(argv[1]) if len(argv) > 1 else 0)
    for shape, count in expected.per_shape().items():
        print(f"{shape:12} {count:5}")
    print(f"{'total':12} {expected.records:5}  ({len(expected.files)} files, unreadable={expected.unreadable})")


if __name__ == "__main__":
    main(sys.argv[1:])
