"""FER-2013's twins: the same photo more than once, inside ``train/`` and across train/test.

Two faces are *twins* when their distance (:func:`distance`) is below :data:`TWIN_RMS` grey
levels: the root-mean-square (RMS) difference of the two faces, each lightly blurred (Gaussian,
sigma 1 pixel, so JPEG re-encoding noise does not count), at the best of the nine alignments
within one pixel, over the central 42 x 42 pixels. Copies of one face image (a
re-encode, a one-pixel crop offset) measure below 2; distinct photos lie far above (nearest
``train/`` face typically 20 to 40 away, median 29).

:func:`nearest` finds every face's nearest neighbour with float32 matrix products over the faces'
low 2-D DCT frequencies (a lower bound of the distance), re-measuring candidates exactly;
:func:`find_twins` does it for a whole dataset (every ``train/`` face against the rest of
``train/``, every test face against ``train/``) and caches the result in ``data/cache/`` beside
the decoded arrays, keyed by the pixels themselves. The result for FER-2013 as distributed ships in
``fer_utils/assets/twins/`` (0.7 MB), so a fresh clone reads it instead of searching for about 100 s.

The module takes plain arrays (or anything with ``x_train``, ``y_train``, ``x_test``, ``y_test``
and ``usage_test``, such as ``data.FERData``), so it imports nothing of the package but ``config``.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import config
from .config import CLASS_NAMES, PRIVATE_TEST, PUBLIC_TEST

#: Faces closer than this (grey levels 0..255, :func:`distance`) are twins: the same pixels, up to a
#: JPEG re-encode or a one-pixel shift. Measured on FER-2013 (notebook 01 shows the histogram): 582 of
#: the 7,178 test faces lie within 0.5 of a ``train/`` face (byte copies up to JPEG rounding) and 48
#: more within 2; 400 planted copies of FER-2013 faces measure at most 1.0 after a JPEG re-encode at
#: quality 75, also after a one-pixel shift plus that re-encode. The plain pixel RMS (no blur, no
#: alignment) below 2 finds 295 PrivateTest twins; this rule finds those and 25 more. The rule is
#: strict: the same photo cropped or scaled differently lies further away (most test faces 2 to 10
#: from their nearest ``train/`` face are such copies), so faces without a twin still include near-copies.
TWIN_RMS: float = 2.0
#: Distances below this are exact and pairs below it are cached, so looser thresholds can be studied
#: without a new search; above it, a face's distance is the one at the centre alignment (an upper bound).
PAIR_RMS_MAX: float = 10.0
#: The blur (Gaussian sigma, pixels) and the largest shift (pixels) of :func:`distance`.
BLUR_SIGMA: float = 1.0
MAX_SHIFT: int = 1
#: Pixels left out at each edge: the shift, plus two so the blur of a moved face never reaches past
#: its edge (a shifted copy's blurred border would otherwise differ from the original's).
MARGIN: int = MAX_SHIFT + 2
#: Bump when the cached content changes.
CACHE_VERSION = 2
_CHUNK = 512  # query rows per matrix product
_LOW = 24  # nearest faces: compare the 24 x 24 lowest 2-D DCT frequencies first
_LOW_PAIRS = 8  # close pairs: 8 x 8 frequencies bound the distance closely enough
_CANDIDATES = 8  # nearest candidates by the low frequencies, re-measured exactly


def _blur_matrix(side: int) -> np.ndarray:
    """``G`` with ``G @ column`` = the column blurred by :data:`BLUR_SIGMA` (scipy's reflecting edges)."""
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(np.eye(side), BLUR_SIGMA, axis=0)


def _sandwich(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ face @ b.T`` for every face of ``x`` (uint8 ``(N, H, W)``, centred on grey 128 here), as
    two large matrix products; returns ``(N, len(a) * len(b))`` float32 rows."""
    n, h, w = x.shape
    a, b = a.astype(np.float32), b.astype(np.float32)
    cols = (x.reshape(n * h, w).astype(np.float32) - 128.0) @ b.T  # (N * H, len(b))
    both = cols.reshape(n, h, len(b)).transpose(0, 2, 1).reshape(n * len(b), h) @ a.T  # (N * len(b), len(a))
    return np.ascontiguousarray(both.reshape(n, len(b), len(a)).transpose(0, 2, 1).reshape(n, -1))


def _shifts() -> list[tuple[int, int]]:
    """The alignments, the centre first."""
    r = range(-MAX_SHIFT, MAX_SHIFT + 1)
    return sorted(((dy, dx) for dy in r for dx in r), key=lambda s: abs(s[0]) + abs(s[1]))


def _side_matrix(side: int, offset: int, low: int | None) -> np.ndarray:
    """Blur, keep the shared interior moved by ``offset`` and, with ``low``, take the lowest ``low``
    orthonormal DCT frequencies divided by sqrt(side): one matrix for a face's rows or columns."""
    from scipy.fft import dct

    inner = side - 2 * MARGIN
    m = np.eye(side)[MARGIN + offset : MARGIN + offset + inner] @ _blur_matrix(side)
    if low is None:
        return m
    return dct(np.eye(inner), norm="ortho", axis=0)[: min(low, inner)] / np.sqrt(inner) @ m


def _views(x: np.ndarray, dy: int = 0, dx: int = 0, low: int | None = None) -> np.ndarray:
    """Faces blurred and cut to the shared interior moved by ``(dy, dx)``, as float32 rows; with ``low``,
    only the lowest ``low x low`` coefficients of their orthonormal 2-D DCT, divided by sqrt(pixels).

    The DCT keeps sums of squares, so the squared distance of two faces' low coefficients is at
    most their mean squared difference: a lower bound of RMS^2 that is close for blurred faces.
    Every step is linear: one matrix on each side of the face (:func:`_sandwich`).
    """
    h, w = np.shape(x)[1:]
    return _sandwich(np.asarray(x), _side_matrix(h, dy, low), _side_matrix(w, dx, low))


def _exact_rms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """RMS difference of matching rows of two arrays of faces (last axis: pixels), computed in float64."""
    d = a.astype(np.float64) - b.astype(np.float64)
    return np.sqrt(np.mean(d * d, axis=-1))


def _squared(q: np.ndarray, r: np.ndarray, r_sq: np.ndarray) -> np.ndarray:
    """All squared distances ``|a|^2 + |b|^2 - 2ab`` between the rows of ``q`` and ``r`` (float32)."""
    return np.einsum("ij,ij->i", q, q)[:, None] + r_sq[None, :] - 2.0 * (q @ r.T)


def _best(qc: np.ndarray, ref: np.ndarray, d2: np.ndarray, k: int, own: np.ndarray | None):
    """Among the ``k`` smallest entries of each row of ``d2``, the exactly nearest row of ``ref``.

    Returns ``(rms, index, bound)``: ``bound`` is the smallest ``d2`` left out (inf if none).
    """
    rows = np.arange(len(qc))
    k = min(k, d2.shape[1])
    part = np.argpartition(d2, k, axis=1)[:, : k + 1] if k < d2.shape[1] else np.tile(np.arange(k), (len(qc), 1))
    order = np.argsort(np.take_along_axis(d2, part, axis=1), axis=1)
    part = np.take_along_axis(part, order, axis=1)
    cand = part[:, :k]
    bound = d2[rows, part[:, k]] if part.shape[1] > k else np.full(len(qc), np.inf, np.float32)
    exact = _exact_rms(qc[:, None, :], ref[cand])
    if own is not None:
        exact[cand == own[:, None]] = np.inf
    best = exact.argmin(axis=1)
    return exact[rows, best], cand[rows, best], bound


def _nearest_rows(q: np.ndarray, r: np.ndarray, fq: np.ndarray, fr: np.ndarray, exclude_self: bool):
    """Exact nearest row of ``r`` for every row of ``q`` (RMS), with ``fq``/``fr`` their low frequencies.

    A row whose best exact candidate is nearer than every low-frequency distance left out is
    settled; the few others are compared on all pixels.
    """
    n = len(q)
    rms, index = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    fr_sq = np.einsum("ij,ij->i", fr, fr)
    # float32 rounding of |a|^2 + |b|^2 - 2ab stays far below this (squared grey levels)
    tol = 1e-4 * float(np.einsum("ij,ij->i", fq, fq).max() + fr_sq.max())
    unsettled = []
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        own = np.arange(start, stop) if exclude_self else None
        d2 = _squared(fq[start:stop], fr, fr_sq)
        if own is not None:
            d2[own - start, own] = np.inf
        rms[start:stop], index[start:stop], bound = _best(q[start:stop], r, d2, _CANDIDATES, own)
        unsettled.append(start + np.flatnonzero(np.sqrt(np.maximum(bound - tol, 0.0)) < rms[start:stop]))
    redo = np.concatenate(unsettled)
    if len(redo):
        r_sq = np.einsum("ij,ij->i", r, r)
        for start in range(0, len(redo), _CHUNK):
            rows = redo[start : start + _CHUNK]
            d2 = _squared(q[rows], r, r_sq)
            if exclude_self:
                d2[np.arange(len(rows)), rows] = np.inf
            rms[rows], index[rows], _ = _best(q[rows], r, d2, 4, rows if exclude_self else None)
    return rms, index


def _close_pairs(query, r, fr, shift, limit: float, exclude_self: bool) -> np.ndarray:
    """Every ``(i, j, rms)`` with ``query[i]`` seen at ``shift`` closer than ``limit`` to row ``r[j]``.

    Exact: the low-frequency distance bounds the RMS from below, and so does the difference of the
    two faces' low-frequency norms, so queries sorted by norm only meet references of similar norm.
    """
    fq = _views(query, *shift, low=_LOW_PAIRS)
    fq_sq, fr_sq = np.einsum("ij,ij->i", fq, fq), np.einsum("ij,ij->i", fr, fr)
    tol = 1e-4 * float(fq_sq.max() + fr_sq.max())  # float32 rounding, squared grey levels
    by_q, by_r = np.argsort(fq_sq), np.argsort(fr_sq)
    norm_r = np.sqrt(fr_sq[by_r])
    fr, fr_sq = fr[by_r], fr_sq[by_r]
    reach = limit + np.sqrt(tol)
    i, j = [], []
    for start in range(0, len(fq), _CHUNK):
        rows = by_q[start : start + _CHUNK]
        lo, hi = np.searchsorted(norm_r, np.sqrt(fq_sq[rows[[0, -1]]]) + [-reach, reach])
        ii, jj = np.nonzero(_squared(fq[rows], fr[lo:hi], fr_sq[lo:hi]) < limit**2 + tol)
        i.append(rows[ii])
        j.append(by_r[lo + jj])
    i, j = np.concatenate(i), np.concatenate(j)
    if exclude_self:
        i, j = i[i != j], j[i != j]
    if not len(i):
        return np.zeros((0, 3))
    rows, at = np.unique(i, return_inverse=True)
    d = _exact_rms(_views(query[rows], *shift)[at], r[j])
    keep = d < limit
    return np.stack([i[keep], j[keep], d[keep]], axis=1)


def _search(
    query: np.ndarray, reference: np.ndarray, exclude_self: bool, pair_rms: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest neighbours by :func:`distance` (exact below ``pair_rms``) and every pair ``(i, j, rms)`` closer
    than ``pair_rms``, each pair once with its best alignment."""
    query, reference = np.asarray(query), np.asarray(reference)
    n = len(query)
    if n == 0 or len(reference) == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64), np.zeros((0, 3))
    r = _views(reference)
    # the centre alignment, every face
    rms, index = _nearest_rows(_views(query), r, _views(query, low=_LOW), _views(reference, low=_LOW), exclude_self)
    fr = _views(reference, low=_LOW_PAIRS)
    pairs = np.concatenate([_close_pairs(query, r, fr, shift, pair_rms, exclude_self) for shift in _shifts()])
    if len(pairs):  # best alignment per pair, then per face
        pairs = pairs[np.lexsort((pairs[:, 2], pairs[:, 1], pairs[:, 0]))]
        pairs = pairs[np.r_[True, np.any(pairs[1:, :2] != pairs[:-1, :2], axis=1)]]
        near = pairs[np.lexsort((pairs[:, 2], pairs[:, 0]))]
        near = near[np.r_[True, near[1:, 0] != near[:-1, 0]]]  # each face's nearest pair
        i = near[:, 0].astype(np.int64)
        take = near[:, 2] < rms[i]
        rms[i[take]], index[i[take]] = near[take, 2], near[take, 1].astype(np.int64)
    return rms, index, pairs


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """The twin distance of two uint8 faces (grey levels): the RMS difference of the blurred faces at the
    best of the alignments of ``a`` within :data:`MAX_SHIFT` pixels, over their shared interior."""
    a, b = np.asarray(a)[None], np.asarray(b)[None]
    return min(float(_exact_rms(_views(a, *shift), _views(b))[0]) for shift in _shifts())


def nearest(query: np.ndarray, reference: np.ndarray, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For every face of ``query``, the nearest face of ``reference`` by :func:`distance`.

    Args:
        query, reference: uint8 faces ``(N, 48, 48)`` and ``(M, 48, 48)``.
        exclude_self: ``query`` is ``reference``; a face does not count as its own neighbour.
    Returns:
        ``(rms, index)``: float64 distances in grey levels and int64 indices into ``reference``
        (``inf`` and ``-1`` when there is no candidate). Exact below :data:`PAIR_RMS_MAX`; above
        it, the distance at the centre alignment. Candidates come from float32 matrix products
        (``|a|^2 + |b|^2 - 2ab``) over low 2-D DCT frequencies, a lower bound of the RMS, and are
        re-measured in float64.
    """
    rms, index, _ = _search(query, reference, exclude_self, PAIR_RMS_MAX)
    return rms, index


def pairs_within(query: np.ndarray, reference: np.ndarray, rms: float = TWIN_RMS, exclude_self: bool = False):
    """Every ``(i, j, rms)`` with ``query[i]`` and ``reference[j]`` closer than ``rms`` (an ``(K, 3)`` array)."""
    return _search(query, reference, exclude_self, rms)[2]


@dataclass
class TwinReport:
    """Nearest ``train/`` face of every face, and all close pairs, for one dataset.

    ``*_rms`` are distances in grey levels, ``*_nearest`` indices into ``x_train``;
    ``train_pairs`` holds ``(i, j, rms)`` with ``i < j`` for every pair of ``train/`` faces
    closer than :data:`PAIR_RMS_MAX`, ``test_pairs`` ``(test index, train index, rms)`` likewise.
    """

    train_rms: np.ndarray
    train_nearest: np.ndarray
    test_rms: np.ndarray
    test_nearest: np.ndarray
    train_pairs: np.ndarray
    test_pairs: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    usage_test: np.ndarray
    threshold: float = TWIN_RMS
    seconds: float = 0.0
    from_cache: bool = False

    # ------------------------------------------------------------------ masks
    def test_mask(self, usage: str | None = None) -> np.ndarray:
        """Which test faces (of ``usage``: PublicTest, PrivateTest, or all with None) have a twin in ``train/``."""
        mask = self.test_rms < self.threshold
        return mask if usage is None else mask[self.usage_test == usage]

    def train_mask(self) -> np.ndarray:
        """Which ``train/`` faces have a twin elsewhere in ``train/``."""
        return self.train_rms < self.threshold

    def train_twin_pairs(self) -> np.ndarray:
        """``(i, j)`` index pairs of ``train/`` faces that are twins (``i < j``)."""
        p = self.train_pairs
        return p[p[:, 2] < self.threshold, :2].astype(np.int64)

    def train_groups(self) -> np.ndarray:
        """A group number for every ``train/`` face: twins (also through other twins) share one."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = len(self.train_rms)
        p = self.train_twin_pairs()
        graph = coo_matrix((np.ones(len(p)), (p[:, 0], p[:, 1])), shape=(n, n))
        return connected_components(graph, directed=False)[1]

    def twins_of(self, test_index: int) -> np.ndarray:
        """Indices of the ``train/`` faces that are twins of test face ``test_index``."""
        p = self.test_pairs
        hit = (p[:, 0] == test_index) & (p[:, 2] < self.threshold)
        return p[hit, 1].astype(np.int64)

    # ------------------------------------------------------------------ tables
    def counts(self):
        """Faces with a ``train/`` twin per emotion and split (train: a twin elsewhere in train/), with totals."""
        import pandas as pd

        def count(y, mask):
            return np.bincount(y[mask], minlength=len(CLASS_NAMES)), np.bincount(y, minlength=len(CLASS_NAMES))

        cols = {"train": count(self.y_train, self.train_mask())}
        for usage in (PUBLIC_TEST, PRIVATE_TEST):
            sel = self.usage_test == usage
            cols[usage] = count(self.y_test[sel], self.test_mask()[sel])
        table = pd.DataFrame(
            {f"{name} {what}": c[k] for name, c in cols.items() for k, what in ((0, "twins"), (1, "faces"))},
            index=pd.Index(CLASS_NAMES, name="emotion"),
        )
        table.loc["total"] = table.sum()
        for name in cols:
            table[f"{name} %"] = (100 * table[f"{name} twins"] / table[f"{name} faces"].clip(lower=1)).round(1)
        return table[[f"{name} {what}" for name in cols for what in ("twins", "faces", "%")]]

    def summary(self) -> str:
        n_priv = int(self.test_mask(PRIVATE_TEST).sum())
        n_pub = int(self.test_mask(PUBLIC_TEST).sum())
        return (
            f"twins (distance < {self.threshold:g} grey levels): {int(self.train_mask().sum()):,} of "
            f"{len(self.train_rms):,} train faces have one in train/; PublicTest {n_pub:,} of "
            f"{int((self.usage_test == PUBLIC_TEST).sum()):,} and PrivateTest {n_priv:,} of "
            f"{int((self.usage_test == PRIVATE_TEST).sum()):,} have one in train/ "
            f"({'from cache' if self.from_cache else 'searched'} in {self.seconds:.1f} s)"
        )


def _cache_key(x_train: np.ndarray, x_test: np.ndarray) -> str:
    """A hash of the pixels: the cache follows the arrays, whatever file they came from."""
    rule = f"v{CACHE_VERSION}|{BLUR_SIGMA}|{MAX_SHIFT}|{MARGIN}|{PAIR_RMS_MAX}|{x_train.shape}|{x_test.shape}"
    h = hashlib.blake2b(rule.encode(), digest_size=10)
    h.update(np.ascontiguousarray(x_train).data)
    h.update(np.ascontiguousarray(x_test).data)
    return h.hexdigest()


#: Where the search's result for FER-2013 as distributed ships; used when its pixel hash matches.
SHIPPED_DIR: Path = config.ASSETS_DIR / "twins"


def find_twins(data, cache_dir: str | os.PathLike | None = None, use_cache: bool = True) -> TwinReport:
    """Nearest ``train/`` face of every ``train/`` and test face of ``data`` (a ``FERData``), and all close pairs.

    The first call searches (for FER-2013 about 100 s of CPU time, measured on a 2-core AMD EPYC; the
    test faces alone about 20 s); the result is cached in
    ``cache_dir`` (default ``data/cache``) as ``twins_<hash of the pixels>.npz``, so later calls
    read it in well under a second. For FER-2013 as distributed the shipped copy
    (:data:`SHIPPED_DIR`) is read when ``cache_dir`` has none.
    """
    start = time.perf_counter()
    x_train, x_test = np.asarray(data.x_train), np.asarray(data.x_test)
    labels = dict(y_train=np.asarray(data.y_train), y_test=np.asarray(data.y_test), usage_test=data.usage_test)
    name = f"twins_{_cache_key(x_train, x_test)}.npz"
    cache_file = Path(cache_dir or config.CACHE_DIR) / name
    for candidate in (cache_file, SHIPPED_DIR / name) if use_cache else ():
        if not candidate.exists():
            continue
        try:
            with np.load(candidate, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            return TwinReport(**arrays, **labels, seconds=time.perf_counter() - start, from_cache=True)
        except (OSError, ValueError, KeyError, TypeError) as err:
            warnings.warn(f"Ignoring unreadable twin cache {candidate} ({err}); searching again.", stacklevel=2)
    train_rms, train_nearest, train_pairs = _search(x_train, x_train, True, PAIR_RMS_MAX)
    if len(train_pairs):  # each pair once (i < j), with the better of its two measurements
        ij = np.sort(train_pairs[:, :2], axis=1)
        train_pairs = np.column_stack([ij, train_pairs[:, 2]])
        train_pairs = train_pairs[np.lexsort((train_pairs[:, 2], train_pairs[:, 1], train_pairs[:, 0]))]
        first = np.ones(len(train_pairs), bool)
        first[1:] = np.any(train_pairs[1:, :2] != train_pairs[:-1, :2], axis=1)
        train_pairs = train_pairs[first]
        # a face's nearest agrees with its pairs, whichever of the two faces was moved
        both = np.concatenate([train_pairs, train_pairs[:, [1, 0, 2]]])
        both = both[np.lexsort((both[:, 2], both[:, 0]))]
        both = both[np.r_[True, both[1:, 0] != both[:-1, 0]]]
        i, j, d = both[:, 0].astype(np.int64), both[:, 1].astype(np.int64), both[:, 2]
        nearer = d < train_rms[i]
        train_rms[i[nearer]], train_nearest[i[nearer]] = d[nearer], j[nearer]
    test_rms, test_nearest, test_pairs = _search(x_test, x_train, False, PAIR_RMS_MAX)
    arrays = dict(
        train_rms=train_rms,
        train_nearest=train_nearest,
        test_rms=test_rms,
        test_nearest=test_nearest,
        train_pairs=train_pairs,
        test_pairs=test_pairs,
    )
    if use_cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp.npz")  # one per process: parallel runs never mix
        np.savez(tmp, **arrays)
        os.replace(tmp, cache_file)
    return TwinReport(**arrays, **labels, seconds=time.perf_counter() - start)
