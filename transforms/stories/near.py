"""NearDuplicateIndex: banded LSH over MinHash signatures, the near-duplicate half of the story state."""

from __future__ import annotations

import hashlib

import numpy

from transforms.stories.features import NUM_PERM


class NearDuplicateIndex:
    """Banded LSH over MinHash signatures: the articles that may have Jaccard >= `threshold` with a signature.

    The candidates of datasketch's MinHashLSH (the same bands: its own choice of b bands of r rows for
    the threshold), in a third of its memory, which matters because the story state holds every article
    of the window: per article, its signature as uint32 and one 64-bit key per band (a stable hash of
    the band, so a pickled index works in another process), where MinHashLSH keeps the band bytes in two
    places and a set per bucket. 1,290 bytes per article against 3,686 with MinHashLSH and uint64
    signatures (BBC, tracemalloc). Candidates are checked on the whole signature by the caller.
    """

    def __init__(self, threshold: float, num_perm: int = NUM_PERM):
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.bands, self.rows = lsh.b, lsh.r
        self._buckets: list[dict[int, object]] = [{} for _ in range(self.bands)]  # band key -> an id, or a list of ids
        self._signatures: dict[str, numpy.ndarray] = {}

    def _keys(self, sig: numpy.ndarray) -> list[int]:
        r = self.rows
        return [
            int.from_bytes(hashlib.blake2b(sig[i * r : (i + 1) * r].tobytes(), digest_size=8).digest(), "little")
            for i in range(self.bands)
        ]

    def __len__(self) -> int:
        return len(self._signatures)

    def signature(self, key: str) -> numpy.ndarray:
        return self._signatures[key]

    def insert(self, key: str, sig: numpy.ndarray) -> None:
        if key in self._signatures:
            raise ValueError(f"{key!r} is already in the near-duplicate index")
        self._signatures[key] = sig
        for bucket, band in zip(self._buckets, self._keys(sig)):
            held = bucket.get(band)
            if held is None:
                bucket[band] = key
            elif isinstance(held, list):
                held.append(key)
            else:
                bucket[band] = [held, key]

    def remove(self, key: str) -> None:
        for bucket, band in zip(self._buckets, self._keys(self._signatures.pop(key))):
            held = bucket[band]
            if isinstance(held, list):
                held.remove(key)
                if len(held) == 1:
                    bucket[band] = held[0]
            else:
                del bucket[band]

    def query(self, sig: numpy.ndarray) -> set[str]:
        found: set[str] = set()
        for bucket, band in zip(self._buckets, self._keys(sig)):
            held = bucket.get(band)
            if isinstance(held, list):
                found.update(held)
            elif held is not None:
                found.add(held)
        return found
