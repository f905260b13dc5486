"""Static word vectors small enough to ship: a starting pipeline's table with fewer keys and fewer dimensions.

en_core_web_md's NER reads 300-dimensional vectors (20,000 rows, 684,830 keys: words in up to four cases; 23 MB of
vectors, 8 MB of keys and 9 MB of their strings). newsbeam's model ships in the repo, so before the fine-tune
(`python -m benchmarks.train_ner`, its `source` step) the table is made smaller, keeping what a name's context
gains from it:
- keys by ORTH as before (spaCy saves a default table's key attribute nowhere, so a LOWER-keyed table is read back
  as ORTH-keyed: every capitalized word would lose its vector), without those that hold a digit (a number's shape
  says more than its row), those over 20 characters, and ALL-CAPS forms over 4 letters (shouted words, not
  acronyms; the tagger title-cases ALL-CAPS lines before the model): 499,065 keys;
- the rows projected on their `dims` leading right singular vectors P (no centring), and the NER's projection W
  (width x 300) replaced by W P, so that v W^T ~ (v P)(W P)^T holds from the first step of the fine-tune;
- no strings for the keys: a vector is found by its key's hash.

    python -m benchmarks.ner.static_vectors build/ner/md_model build/ner/source --dims 64
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

_DIGIT = re.compile(r"\d")


def kept_key(text: str) -> bool:
    """Whether a vector key's string stays in the shipped table (see the module's docstring)."""
    return not _DIGIT.search(text) and len(text) <= 20 and not (text.isupper() and len(text) > 4)


def kept_keys(vectors, strings) -> dict[int, int]:
    """{key: row} for the keys of `vectors` that stay."""
    return {key: row for key, row in vectors.key2row.items() if key in strings and kept_key(strings[key])}


def compress(nlp, dims: int, keep_strings=()) -> tuple[int, int]:
    """Replace `nlp`'s vectors (and its NER's projection of them) in place by a table of fewer keys and `dims`
    columns, and drop the strings of the old keys except `keep_strings` and the pipes' labels: a vector is found by
    its key's hash, never by its string, and the strings were 9 of the 10 MB of en_core_web_md's string store.
    Returns the number of keys before and after."""
    import numpy as np
    from spacy.vectors import Vectors

    old = nlp.vocab.vectors
    keys = kept_keys(old, nlp.vocab.strings)
    rows = sorted(set(keys.values()))
    renumber = {r: i for i, r in enumerate(rows)}
    data = np.asarray(old.data, dtype="float32")[rows]
    _, _, vt = np.linalg.svd(data, full_matrices=False)
    proj = np.ascontiguousarray(vt[:dims].T, dtype="float32")  # 300 x dims
    table = np.ascontiguousarray(data @ proj, dtype="float32")
    new = Vectors(strings=nlp.vocab.strings, shape=table.shape, name=f"{old.name}_{dims}d")
    new.data[:] = table
    for key, row in sorted(keys.items()):
        new.add(key, row=renumber[row])
    before = len(old.key2row)
    labels = {label for name in nlp.pipe_names for label in getattr(nlp.get_pipe(name), "labels", ())}
    kept = [t for t in nlp.vocab.strings if t in labels or t in keep_strings or nlp.vocab.strings[t] not in old]
    nlp.vocab.strings._reset_and_load(kept)
    nlp.vocab.vectors = new
    for name in nlp.pipe_names:
        model = nlp.get_pipe(name).model
        for layer in model.walk():
            if layer.name == "static_vectors" and layer.has_param("W"):
                w = layer.get_param("W")  # width x 300
                layer._dims["nM"] = dims  # thinc's set_dim refuses a change once W is set; W is set next
                layer.set_param("W", np.ascontiguousarray(w @ proj, dtype="float32"))
    return before, len(keys)


def main(argv=None) -> None:
    import spacy

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a pipeline with vectors and a NER that reads them")
    parser.add_argument("out", type=Path)
    parser.add_argument("--dims", type=int, default=64)
    args = parser.parse_args(argv)
    nlp = spacy.load(args.model)
    before, after = compress(nlp, args.dims)
    nlp.to_disk(args.out)
    print(f"{args.model} -> {args.out}: {before} keys -> {after}, {args.dims} dimensions")


if __name__ == "__main__":
    main()
