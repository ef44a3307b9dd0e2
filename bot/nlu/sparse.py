"""Sparse products for one message at a time.

Every live parse multiplies a single sparse row by a few fixed matrices.
scipy's per-call overhead (format checks, index dtype negotiation,
conversions) costs more than the product itself there, so the hot path uses
an inverted-index gather in plain numpy instead.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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
