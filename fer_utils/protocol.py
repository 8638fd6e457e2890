"""The course protocol as code: which faces train, which validate, which test.

Train on ``train/`` only; validate on a stratified split of it or on PublicTest; test on
PrivateTest (the headline number), PublicTest and the whole test folder. PrivateTest is never
used to select anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import CLASS_NAMES, PRIVATE_TEST, PUBLIC_TEST
from .data import FERData


def stratified_subset(y: np.ndarray, n: int | None, seed: int = 42) -> np.ndarray:
    """Indices of a class-stratified random subset of size ``n`` (all indices if None)."""
    if n is None or n >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(idx)


@dataclass
class Splits:
    """The arrays a course run trains and evaluates on (uint8 faces, int labels)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    tests: dict[str, tuple[np.ndarray, np.ndarray]]  # "PrivateTest", "PublicTest", "test"
    validation: str

    def sizes(self):
        import pandas as pd

        rows = {"train": self.y_train, "validation": self.y_val}
        rows.update({k: v[1] for k, v in self.tests.items()})
        return pd.DataFrame(
            {k: np.bincount(v, minlength=len(CLASS_NAMES)) for k, v in rows.items()},
            index=pd.Index(CLASS_NAMES, name="emotion"),
        ).T.assign(total=lambda d: d.sum(axis=1))


def make_splits(
    data: FERData,
    validation: str = "split",
    val_fraction: float = 0.1,
    seed: int = 42,
    train_limit: int | None = None,
    eval_limit: int | None = None,
) -> Splits:
    """Training, validation and test sets, following the course protocol.

    Args:
        validation: ``"split"`` carves a stratified ``val_fraction`` out of train/;
            ``"public"`` uses PublicTest as validation (PrivateTest stays the headline).
        train_limit / eval_limit: stratified subsets for quick runs (the ``smoke`` profile).
    Test sets are ``PrivateTest`` (headline), ``PublicTest`` and ``test`` (the whole folder).
    PrivateTest is never used for selecting anything.
    """
    from sklearn.model_selection import train_test_split

    x, y = data.x_train, data.y_train
    if validation == "split":
        tr, va = train_test_split(np.arange(len(y)), test_size=val_fraction, stratify=y, random_state=seed)
        x_tr, y_tr, x_va, y_va = x[np.sort(tr)], y[np.sort(tr)], x[np.sort(va)], y[np.sort(va)]
    elif validation == "public":
        x_tr, y_tr = x, y
        x_va, y_va = data.test_subset(PUBLIC_TEST)
    else:
        raise ValueError(f"validation must be 'split' or 'public', got {validation!r}")
    keep = stratified_subset(y_tr, train_limit, seed)
    x_tr, y_tr = x_tr[keep], y_tr[keep]

    def limit(xs, ys):
        k = stratified_subset(ys, eval_limit, seed)
        return xs[k], ys[k]

    x_va, y_va = limit(x_va, y_va)
    tests = {
        name: limit(*data.test_subset(usage))
        for name, usage in ((PRIVATE_TEST, PRIVATE_TEST), (PUBLIC_TEST, PUBLIC_TEST), ("test", None))
    }
    return Splits(x_tr, y_tr, x_va, y_va, tests, validation)
