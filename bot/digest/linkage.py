"""Average-linkage agglomerative clustering with a similarity cut, in numpy.

Average linkage (not single) so that one bridging text cannot chain two stories
together; a row-maximum cache keeps it near O(n²) instead of O(n³), so a few
thousand units cluster in about a second.
"""

from __future__ import annotations

import numpy as np


def average_linkage(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Groups of row indices whose average pairwise similarity stays ≥ ``threshold``.

    ``similarity`` is square and symmetric; the diagonal is ignored. Groups come back
    largest first, each sorted, ties broken by first member (deterministic).
    """
    n = similarity.shape[0]
    if n == 0:
        return []
    avg = np.array(similarity, dtype=np.float64, copy=True)
    np.fill_diagonal(avg, -np.inf)
    sizes = np.ones(n, dtype=np.int64)
    members: list[list[int]] = [[i] for i in range(n)]
    alive = np.ones(n, dtype=bool)
    row_best = avg.max(axis=1)
    row_arg = avg.argmax(axis=1)
    while True:
        a = int(np.argmax(row_best))
        best = row_best[a]
        if not np.isfinite(best) or best < threshold:
            break
        b = int(row_arg[a])
        a, b = min(a, b), max(a, b)
        merged = (avg[a] * sizes[a] + avg[b] * sizes[b]) / (sizes[a] + sizes[b])
        merged[a] = -np.inf
        merged[b] = -np.inf
        merged[~alive] = -np.inf
        avg[a, :] = merged
        avg[:, a] = merged
        avg[b, :] = -np.inf
        avg[:, b] = -np.inf
        sizes[a] += sizes[b]
        members[a].extend(members[b])
        members[b] = []
        alive[b] = False
        row_best[b] = -np.inf
        row_best[a] = avg[a].max()
        row_arg[a] = int(avg[a].argmax())
        stale = np.nonzero(alive & ((row_arg == a) | (row_arg == b)))[0]
        for i in stale:
            if i != a:
                row_best[i] = avg[i].max()
                row_arg[i] = int(avg[i].argmax())
        better = alive & (merged > row_best)
        better[a] = False
        row_best[better] = merged[better]
        row_arg[better] = a
    groups = [sorted(m) for m in members if m]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return groups
