"""The course protocol as code: which faces train, which validate, which test.

Train on ``train/`` only; validate on a stratified split of it or on PublicTest; test on
PrivateTest (the headline number), PublicTest and the whole test folder. PrivateTest is never
used to select anything. FER-2013 holds the same photo more than once (``fer_utils.twins``):
no validation face has a twin in the training part, and PrivateTest is also reported without
the faces that have a twin in ``train/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import CLASS_NAMES, PRIVATE_NO_TWINS, PRIVATE_TEST, PUBLIC_TEST
from .data import FERData
from .twins import TwinReport, find_twins


def stratified_subset(y: np.ndarray, n: int | None, seed: int = 42) -> np.ndarray:
    """Indices of a class-stratified random subset of size ``n`` (all indices if None)."""
    if n is None or n >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(idx)


@dataclass
class Splits:
    """The arrays a course run trains and evaluates on (uint8 faces, int labels).

    ``tests`` maps ``PrivateTest`` (headline), ``PrivateTest_no_twins`` (``config.PRIVATE_NO_TWINS``:
    PrivateTest without the faces that have a twin in ``train/``), ``PublicTest`` and ``test`` (the
    whole folder) to ``(x, y)``; ``train_twins`` holds, for each of them, which faces have a twin in
    ``train/`` (aligned with ``tests``). ``val_twins_resolved`` counts the validation faces that had a
    twin in the training part before the protocol moved them (``split``) or dropped them (``public``).
    ``train_index`` and ``val_index`` say where each training and validation face sits in ``train/``
    (``val_index`` is None when PublicTest validates).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    tests: dict[str, tuple[np.ndarray, np.ndarray]]
    validation: str
    train_twins: dict[str, np.ndarray] = field(default_factory=dict)
    val_twins_resolved: int = 0
    train_index: np.ndarray | None = None
    val_index: np.ndarray | None = None

    def twin_counts(self) -> dict[str, int]:
        """Faces with a twin in ``train/`` per test set."""
        return {name: int(mask.sum()) for name, mask in self.train_twins.items()}

    def sizes(self):
        import pandas as pd

        rows = {"train": self.y_train, "validation": self.y_val}
        rows.update({k: v[1] for k, v in self.tests.items()})
        return pd.DataFrame(
            {k: np.bincount(v, minlength=len(CLASS_NAMES)) for k, v in rows.items()},
            index=pd.Index(CLASS_NAMES, name="emotion"),
        ).T.assign(total=lambda d: d.sum(axis=1))


def _twin_free_validation(y: np.ndarray, va: np.ndarray, groups: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
    """Validation indices with every twin group on one side, same size and class counts as ``va``.

    A validation face whose twin group (``TwinReport.train_groups``) also has a face in the training
    part goes to training with its group; a face of the same emotion without any twin takes its
    place. Returns the new indices and how many faces moved.
    """
    in_val = np.zeros(len(y), bool)
    in_val[va] = True
    mixed = np.intersect1d(groups[in_val], groups[~in_val])
    move = in_val & np.isin(groups, mixed)
    in_val[move] = False
    singles = ~in_val & (np.bincount(groups)[groups] == 1)
    rng = np.random.default_rng(seed)
    for c, n in enumerate(np.bincount(y[move], minlength=len(CLASS_NAMES))):
        if n:
            pool = np.flatnonzero(singles & (y == c))
            in_val[rng.choice(pool, min(n, len(pool)), replace=False)] = True
    return np.flatnonzero(in_val), int(move.sum())


def make_splits(
    data: FERData,
    validation: str = "split",
    val_fraction: float = 0.1,
    seed: int = 42,
    train_limit: int | None = None,
    eval_limit: int | None = None,
    twins: TwinReport | None = None,
) -> Splits:
    """Training, validation and test sets, following the course protocol.

    Args:
        validation: ``"split"`` carves a stratified ``val_fraction`` out of train/, keeping twin
            groups on one side: a validation face with a twin in the training part moves to
            training with its twins, and a face of the same emotion without twins takes its place
            (validation keeps its size and class counts); ``"public"`` uses PublicTest as
            validation without its faces that have a twin in train/ (PrivateTest stays the headline).
        train_limit / eval_limit: stratified subsets for quick runs (the ``smoke`` profile).
        twins: the dataset's :func:`fer_utils.twins.find_twins` (searched, or read from its cache, if None).
    Test sets are ``PrivateTest`` (headline), ``PrivateTest_no_twins`` (``config.PRIVATE_NO_TWINS``),
    ``PublicTest`` and ``test`` (the whole folder). PrivateTest is never used for selecting anything.
    """
    from sklearn.model_selection import train_test_split

    twins = twins or find_twins(data)
    x, y = data.x_train, data.y_train
    if validation == "split":
        tr, va = train_test_split(np.arange(len(y)), test_size=val_fraction, stratify=y, random_state=seed)
        va, resolved = _twin_free_validation(y, va, twins.train_groups(), seed)
        tr = np.setdiff1d(np.arange(len(y)), va)
        x_tr, y_tr, x_va, y_va = x[tr], y[tr], x[va], y[va]
        va_index = va
    elif validation == "public":
        x_tr, y_tr = x, y
        x_va, y_va = data.test_subset(PUBLIC_TEST)
        has_twin = twins.test_mask(PUBLIC_TEST)
        x_va, y_va, resolved = x_va[~has_twin], y_va[~has_twin], int(has_twin.sum())
        tr, va_index = np.arange(len(y)), None
    else:
        raise ValueError(f"validation must be 'split' or 'public', got {validation!r}")
    keep = stratified_subset(y_tr, train_limit, seed)
    x_tr, y_tr, tr = x_tr[keep], y_tr[keep], tr[keep]

    def limit(xs, ys, mask=None):
        k = stratified_subset(ys, eval_limit, seed)
        return (xs[k], ys[k]) if mask is None else (xs[k], ys[k], mask[k])

    k_va = stratified_subset(y_va, eval_limit, seed)
    x_va, y_va = x_va[k_va], y_va[k_va]
    va_index = None if va_index is None else va_index[k_va]
    tests, train_twins = {}, {}
    for name, usage in ((PRIVATE_TEST, PRIVATE_TEST), (PUBLIC_TEST, PUBLIC_TEST), ("test", None)):
        xs, ys, train_twins[name] = limit(*data.test_subset(usage), twins.test_mask(usage))
        tests[name] = (xs, ys)
        if name == PRIVATE_TEST:  # right after the headline, for tables
            alone = ~train_twins[name]
            tests[PRIVATE_NO_TWINS], train_twins[PRIVATE_NO_TWINS] = (xs[alone], ys[alone]), train_twins[name][alone]
    return Splits(x_tr, y_tr, x_va, y_va, tests, validation, train_twins, resolved, tr, va_index)
