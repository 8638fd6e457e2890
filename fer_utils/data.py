"""FER-2013: find, decode, cache, check and explore it (``protocol`` splits it, ``pipeline`` streams it).

Two on-disk formats are accepted:

* the Kaggle folder layout ``train/<emotion>/*.jpg`` and ``test/<emotion>/*.jpg``
  (test file names start with ``PublicTest_`` or ``PrivateTest_``);
* the original challenge file ``fer2013.csv`` with columns ``emotion,pixels,Usage``.

Decoded arrays are cached in ``data/cache/`` under a key built from the file listing
(names, sizes, modification times), so a changed dataset is re-read automatically.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from . import config, integrity, runlog
from .config import CLASS_NAMES, IMG_SIZE, PRIVATE_TEST, PUBLIC_TEST
from .images import to_gray_uint8
from .platforms import platform_fer2013_candidates

CACHE_VERSION = 2  # 2: whole-set pixel statistics cached with the arrays
_CSV_NAME = "fer2013.csv"


class DatasetNotFoundError(FileNotFoundError):
    """FER-2013 is in none of the places the course looks."""


class DatasetFormatError(ValueError):
    """The dataset is there but malformed (unknown class folder, bad CSV row)."""


class BadImageWarning(UserWarning):
    """An image file was skipped because it could not be decoded."""


class ProcessedDataWarning(UserWarning):
    """The dataset's pixel statistics say it is not FER-2013 as distributed."""


@dataclass
class FERData:
    """FER-2013 (or the synthetic stand-in) as uint8 arrays.

    ``x_*`` are ``(N, 48, 48)`` uint8, ``y_*`` int64 indices into ``CLASS_NAMES``,
    ``usage_test`` says ``PublicTest`` or ``PrivateTest`` for each test image.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    usage_test: np.ndarray
    names_train: np.ndarray
    names_test: np.ndarray
    source: str
    fmt: str  # "folders" or "csv"
    synthetic: bool = False
    from_cache: bool = False
    load_seconds: float = 0.0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: whole-set statistics against the FER-2013 fingerprint (see ``fer_utils.integrity``)
    integrity: integrity.IntegrityReport | None = None

    def test_subset(self, usage: str | None) -> tuple[np.ndarray, np.ndarray]:
        """Test images and labels of one subset (``PublicTest``/``PrivateTest``) or all (None)."""
        if usage is None:
            return self.x_test, self.y_test
        mask = self.usage_test == usage
        return self.x_test[mask], self.y_test[mask]

    def summary(self) -> str:
        n_pub = int((self.usage_test == PUBLIC_TEST).sum())
        n_priv = int((self.usage_test == PRIVATE_TEST).sum())
        origin = "cache" if self.from_cache else self.fmt
        return (
            f"{'SYNTHETIC demo faces' if self.synthetic else 'FER-2013'} from {self.source}: "
            f"train {len(self.y_train):,}, test {len(self.y_test):,} "
            f"(PublicTest {n_pub:,}, PrivateTest {n_priv:,}); "
            f"loaded from {origin} in {self.load_seconds:.2f} s"
            + (f"; skipped {len(self.skipped)} unreadable file(s)" if self.skipped else "")
            + (
                "; pixel statistics look PROCESSED (see .integrity)"
                if self.integrity and self.integrity.processed
                else "; pixel statistics match FER-2013"
                if self.integrity and self.integrity.checked
                else ""
            )
        )


# --------------------------------------------------------------------------- finding
def candidate_locations(path: str | os.PathLike | None = None) -> list[Path]:
    """Where the course looks for FER-2013, in order: ``path``, ``$FER2013_DIR``, ``data/fer2013/``,
    then the usual places on Kaggle and Colab (``fer_utils.platforms``)."""
    places = []
    if path is not None:
        places.append(Path(path).expanduser().resolve())
    env = config.fer2013_dir_from_env()
    if env is not None:
        places.append(env)
    places.append(config.DEFAULT_FER_DIR)
    places.append(config.DATA_DIR / _CSV_NAME)
    places.extend(platform_fer2013_candidates())  # Kaggle's /kaggle/input, Colab's kagglehub cache
    return list(dict.fromkeys(places))


def detect_format(path: Path) -> tuple[str, Path] | None:
    """``("folders", root)`` or ``("csv", file)`` if ``path`` holds FER-2013, else None."""
    if path.is_file() and path.suffix.lower() == ".csv":
        return "csv", path
    if path.is_dir():
        if (path / "train").is_dir() and (path / "test").is_dir():
            return "folders", path
        if (path / _CSV_NAME).is_file():
            return "csv", path / _CSV_NAME
    return None


def find_dataset(path: str | os.PathLike | None = None) -> tuple[str, Path]:
    """Locate FER-2013: ``path``, else ``$FER2013_DIR``, else ``data/fer2013/``.

    Raises:
        DatasetNotFoundError: listing every place looked at and how to get the data.
    """
    places = candidate_locations(path)
    for place in places:
        found = detect_format(place)
        if found:
            return found
    looked = "\n".join(f"  - {p}" for p in places)
    raise DatasetNotFoundError(
        "FER-2013 was not found. Looked in:\n" + looked + "\n"
        f"Get it from {config.KAGGLE_URL} (by hand, or `kagglehub.dataset_download('msambare/fer2013')`),\n"
        f"then unpack it so that {config.DEFAULT_FER_DIR}/train and .../test exist, or set FER2013_DIR\n"
        "to the folder that holds train/ and test/ (or fer2013.csv).\n"
        "To run the course without it, call load_fer2013(allow_synthetic=True) for synthetic demo faces."
    )


def data_source_line(banner: bool = False) -> str:
    """One line for terminals: where FER-2013 was found, or a warning that synthetic faces are used
    (after the big synthetic-data banner with ``banner=True``)."""
    try:
        fmt, where = find_dataset()
    except DatasetNotFoundError:
        from .synthetic import SYNTHETIC_BANNER

        return (SYNTHETIC_BANNER + "\n" if banner else "") + (
            "WARNING: FER-2013 NOT FOUND: notebooks run on SYNTHETIC demo faces and the tests that need "
            "the real data are skipped (reasons below). Set FER2013_DIR (README: 'Getting FER-2013')."
        )
    return f"Data: FER-2013 ({fmt}) from {where}"


def _read_face(path: str) -> np.ndarray | str:
    """Decode one face file; on failure return the reason as a string."""
    try:
        if os.path.getsize(path) == 0:
            return "empty file"
        with Image.open(path) as img:
            img.load()
            return to_gray_uint8(img)
    except UnidentifiedImageError:
        return "not an image PIL can read"
    except (OSError, SyntaxError, ValueError) as err:  # truncated/corrupt files
        return f"corrupt or truncated image ({err})"


def _usage_from_name(name: str) -> str:
    for usage in (PUBLIC_TEST, PRIVATE_TEST):
        if name.startswith(usage):
            return usage
    return "Test"


def _list_folder_layout(root: Path) -> dict[str, list[tuple[str, int, str]]]:
    """For train/ and test/: sorted (relative path, class index, file name) of every file."""
    listing: dict[str, list[tuple[str, int, str]]] = {}
    for split in ("train", "test"):
        rows = []
        for entry in sorted(os.scandir(root / split), key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            if not entry.is_dir():
                continue  # stray files beside the class folders are ignored
            if entry.name not in CLASS_NAMES:
                raise DatasetFormatError(
                    f"Unknown class folder {root / split / entry.name}: expected only "
                    f"{', '.join(CLASS_NAMES)}. Move or delete that folder and load again."
                )
            label = CLASS_NAMES.index(entry.name)
            for f in sorted(os.listdir(entry.path)):
                if not f.startswith(".") and os.path.isfile(os.path.join(entry.path, f)):
                    rows.append((f"{split}/{entry.name}/{f}", label, f))
        listing[split] = rows
    return listing


def _fingerprint(paths: list[Path], extra: str) -> str:
    """Hash of names, sizes and modification times: changes whenever the dataset does."""
    h = hashlib.sha1(f"v{CACHE_VERSION}|{IMG_SIZE}|{extra}".encode())
    for p in paths:
        st = p.stat()
        h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def _load_folders(root: Path, listing: dict, workers: int) -> tuple[dict, list[tuple[str, str]]]:
    arrays: dict = {}
    skipped: list[tuple[str, str]] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for split, rows in listing.items():
            paths = [str(root / rel) for rel, _, _ in rows]
            decoded = list(pool.map(_read_face, paths, chunksize=256))
            keep = [i for i, d in enumerate(decoded) if not isinstance(d, str)]
            for i, d in enumerate(decoded):
                if isinstance(d, str):
                    skipped.append((paths[i], d))
                    warnings.warn(f"Skipped {paths[i]}: {d}.", BadImageWarning, stacklevel=3)
            x = np.stack([decoded[i] for i in keep]) if keep else np.zeros((0, IMG_SIZE, IMG_SIZE), np.uint8)
            arrays[f"x_{split}"] = x
            arrays[f"y_{split}"] = np.array([rows[i][1] for i in keep], dtype=np.int64)
            arrays[f"names_{split}"] = np.array([rows[i][2] for i in keep], dtype=str)
    arrays["usage_test"] = np.array([_usage_from_name(n) for n in arrays["names_test"]], dtype=str)
    return arrays, skipped


def _load_csv(path: Path) -> dict:
    """Parse the challenge CSV; a malformed row raises an error naming its line."""
    name_to_idx = {name: CLASS_NAMES.index(name) for name in CLASS_NAMES}
    xs = {"train": [], "test": []}
    ys = {"train": [], "test": []}
    names = {"train": [], "test": []}
    usage = []
    n_pixels = IMG_SIZE * IMG_SIZE
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = {"emotion", "pixels", "usage"} - set(header)
        if missing:
            raise DatasetFormatError(
                f"{path}: header must have emotion,pixels,Usage columns; missing {', '.join(sorted(missing))}."
            )
        ie, ip, iu = header.index("emotion"), header.index("pixels"), header.index("usage")
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            where = f"{path}, line {line_no}"
            try:
                label = int(row[ie])
                emotion = config.CSV_LABEL_TO_NAME[label]
            except (ValueError, KeyError, IndexError):
                raise DatasetFormatError(
                    f"{where}: emotion must be an integer 0-6, got {row[ie] if len(row) > ie else 'nothing'!r}."
                ) from None
            try:
                pixels = np.array(row[ip].split(), dtype=np.int32)
            except (ValueError, IndexError):
                raise DatasetFormatError(f"{where}: pixel string is not space-separated integers.") from None
            if pixels.size != n_pixels:
                raise DatasetFormatError(
                    f"{where}: pixel string has {pixels.size} values, expected {n_pixels} ({IMG_SIZE}x{IMG_SIZE})."
                )
            if pixels.min() < 0 or pixels.max() > 255:
                raise DatasetFormatError(f"{where}: pixel values must lie in 0..255.")
            use = row[iu].strip() if len(row) > iu else ""
            if use == "Training":
                split = "train"
            elif use in (PUBLIC_TEST, PRIVATE_TEST):
                split = "test"
                usage.append(use)
            else:
                raise DatasetFormatError(f"{where}: Usage must be Training, PublicTest or PrivateTest, got {use!r}.")
            xs[split].append(pixels.astype(np.uint8).reshape(IMG_SIZE, IMG_SIZE))
            ys[split].append(name_to_idx[emotion])
            names[split].append(f"{use}_{line_no}")
    arrays = {}
    for split in ("train", "test"):
        arrays[f"x_{split}"] = np.stack(xs[split]) if xs[split] else np.zeros((0, IMG_SIZE, IMG_SIZE), np.uint8)
        arrays[f"y_{split}"] = np.array(ys[split], dtype=np.int64)
        arrays[f"names_{split}"] = np.array(names[split], dtype=str)
    arrays["usage_test"] = np.array(usage, dtype=str)
    return arrays


def load_fer2013(
    path: str | os.PathLike | None = None,
    *,
    allow_synthetic: bool = False,
    use_cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    workers: int = 4,
    verbose: bool = True,
) -> FERData:
    """Load FER-2013 as uint8 arrays, from the cache when the dataset is unchanged.

    Args:
        path: a folder (Kaggle layout or holding ``fer2013.csv``) or a CSV file;
            default ``$FER2013_DIR``, then ``data/fer2013/``.
        allow_synthetic: if no dataset is found, generate and load the synthetic demo
            faces instead (a loud banner says so) rather than raising.
        use_cache: read/write the decoded arrays in ``cache_dir`` (default ``data/cache``).
        workers: threads decoding JPEGs on a cache miss.
    """
    start = time.perf_counter()
    synthetic = False
    try:
        fmt, where = find_dataset(path)
    except DatasetNotFoundError:
        if not allow_synthetic:
            raise
        from .synthetic import SYNTHETIC_BANNER, ensure_synthetic_dataset

        where, fmt, synthetic = ensure_synthetic_dataset(), "folders", True
        print(SYNTHETIC_BANNER)
    if synthetic or (where / ".synthetic").exists():
        synthetic = True

    if fmt == "folders":
        listing = _list_folder_layout(where)
        files = [where / rel for rows in listing.values() for rel, _, _ in rows]
    else:
        files = [where]
    key = _fingerprint(files, f"{fmt}|{where}")
    cache_file = Path(cache_dir or config.CACHE_DIR) / f"fer2013_{fmt}_{key}.npz"

    arrays, skipped, from_cache = None, [], False
    if use_cache and cache_file.exists():
        try:
            with np.load(cache_file, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            skipped = [tuple(s) for s in arrays.pop("skipped").tolist()]
            stats = json.loads(str(arrays.pop("stats_json")))
            from_cache = True
        except (OSError, ValueError, KeyError) as err:
            warnings.warn(f"Ignoring unreadable cache {cache_file} ({err}); decoding again.", stacklevel=2)
            arrays = None
    if arrays is None:
        arrays, skipped = _load_folders(where, listing, workers) if fmt == "folders" else (_load_csv(where), [])
        stats = {
            split: integrity.pixel_statistics(arrays[f"x_{split}"], arrays[f"y_{split}"]) for split in ("train", "test")
        }
        if skipped:
            warnings.warn(
                f"Skipped {len(skipped)} unreadable file(s) in {where} (listed above); "
                "delete or replace them to silence this.",
                BadImageWarning,
                stacklevel=2,
            )
        if use_cache:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp.npz")  # one per process: parallel runs never mix
            np.savez(
                tmp,
                skipped=np.array(skipped, dtype=str).reshape(-1, 2),
                stats_json=np.array(json.dumps(stats)),
                **arrays,
            )
            os.replace(tmp, cache_file)
    data = FERData(
        **arrays,
        source=str(where),
        fmt=fmt,
        synthetic=synthetic,
        from_cache=from_cache,
        skipped=list(skipped),
        load_seconds=time.perf_counter() - start,
        integrity=integrity.check(stats, synthetic=synthetic),
    )
    verdict = "PROCESSED" if data.integrity.processed else "matches FER-2013"
    runlog.note(
        "data",
        {
            "source": "synthetic" if synthetic else "FER-2013",
            "path": str(where),
            "images": int(len(data.y_train) + len(data.y_test)),
            "integrity": verdict if data.integrity.checked else "not checked",
            "problems": list(data.integrity.problems),
        },
    )
    if verbose:
        print(data.summary())
    if data.integrity.processed:
        text = data.integrity.warning_text()
        print("\n" + "!" * 78 + "\n" + text + "\n" + "!" * 78 + "\n", flush=True)
        warnings.warn(text, ProcessedDataWarning, stacklevel=2)
    return data


# --------------------------------------------------------------------------- exploring
def class_counts(data: FERData):
    """A table of images per class: train, PublicTest, PrivateTest, test (both), total."""
    import pandas as pd

    def count(y):
        return np.bincount(y, minlength=len(CLASS_NAMES))

    table = pd.DataFrame(
        {
            "train": count(data.y_train),
            PUBLIC_TEST: count(data.test_subset(PUBLIC_TEST)[1]),
            PRIVATE_TEST: count(data.test_subset(PRIVATE_TEST)[1]),
            "test": count(data.y_test),
        },
        index=pd.Index(CLASS_NAMES, name="emotion"),
    )
    table["total"] = table["train"] + table["test"]
    table.loc["total"] = table.sum()
    return table


def file_format_stats(root: str | os.PathLike, sample: int | None = None, seed: int = 0):
    """Image sizes, modes and formats of the files under ``root`` (all, or a random ``sample``)."""
    import pandas as pd

    root = Path(root)
    paths = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    if sample is not None and sample < len(paths):
        rng = np.random.default_rng(seed)
        paths = [paths[i] for i in sorted(rng.choice(len(paths), sample, replace=False))]
    rows = []
    for p in paths:
        try:
            with Image.open(p) as img:
                rows.append((img.format, img.mode, f"{img.width}x{img.height}"))
        except (OSError, UnidentifiedImageError):
            rows.append(("unreadable", "-", "-"))
    df = pd.DataFrame(rows, columns=["format", "mode", "size"])
    return df.value_counts().rename("files").reset_index()


def pixel_stats(data: FERData):
    """Mean, standard deviation and range of pixel intensities per split and class."""
    import pandas as pd

    rows = []
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        for i, name in enumerate(CLASS_NAMES):
            xi = x[y == i].astype(np.float32)
            if len(xi):
                rows.append((split, name, xi.mean(), xi.std(), int(xi.min()), int(xi.max())))
        xf = x.astype(np.float32)
        rows.append((split, "all", xf.mean(), xf.std(), int(xf.min()), int(xf.max())))
    return pd.DataFrame(rows, columns=["split", "emotion", "mean", "std", "min", "max"]).round(2)
