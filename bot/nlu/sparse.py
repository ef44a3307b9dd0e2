"""Sparse products for one message at a time.

Every live parse multiplies a single sparse row by a few fixed matrices.
scipy's per-call overhead (format checks, index dtype negotiation,
conversions) costs more than the product itself there, so the hot path uses
an inverted-index gather in plain numpy instead.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp


class Row(NamedTuple):
    """One message's sparse vector on the live path: sorted column indices and values.

    Building a one-row scipy matrix costs ~80 µs of format checks and index-type
    negotiation, more than every product the row takes part in; the live path
    passes these instead and only batch code builds matrices (:func:`stack`).
    """

    indices: np.ndarray
    data: np.ndarray
    width: int

    @property
    def shape(self) -> tuple[int, int]:
        return (1, self.width)

    def tocsr(self) -> sp.csr_matrix:
        return stack([self])


def stack(rows: Sequence[Row]) -> sp.csr_matrix:
    """The rows as one CSR matrix (all of the same width)."""
    width = rows[0].width if rows else 0
    indptr = np.zeros(len(rows) + 1, np.int64)
    np.cumsum([len(r.indices) for r in rows], out=indptr[1:])
    indices = np.concatenate([r.indices for r in rows]) if rows else np.zeros(0, np.int64)
    data = np.concatenate([r.data for r in rows]).astype(np.float32) if rows else np.zeros(0, np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), width))


# Above this many postings one pass of scipy's C code beats numpy's several passes.
_GATHER_LIMIT = 20_000


def row_times(idx: np.ndarray, values: np.ndarray, MT: sp.csr_matrix) -> np.ndarray:
    """One sparse row (``idx``, ``values``) times ``MT`` (features × items, CSR) → dense (items,)."""
    n_items = MT.shape[1]
    if len(idx) == 0:
        return np.zeros(n_items, np.float32)
    starts = MT.indptr[idx]
    lengths = MT.indptr[idx + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(n_items, np.float32)
    if total > _GATHER_LIMIT:  # long posting lists (big training sets): scipy's C loop wins
        row = sp.csr_matrix((values, idx, np.array([0, len(idx)])), shape=(1, MT.shape[0]))
        return (row @ MT).toarray().ravel().astype(np.float32, copy=False)
    # Positions of every posting of every query feature, without a Python loop.
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths) + np.arange(total)
    weights = MT.data[offsets] * np.repeat(values, lengths)
    return np.bincount(MT.indices[offsets], weights=weights, minlength=n_items).astype(np.float32)
