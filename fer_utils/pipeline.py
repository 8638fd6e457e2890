"""Faces to training batches: augmentation layers and ``tf.data`` pipelines.

Keras preprocessing layers (``augmentation_layers``) replace Keras 2's removed
``ImageDataGenerator``; ``make_dataset`` streams uint8 faces as float32 batches in the models'
input convention (pixels 0..255: every model rescales its input in its first layer).
"""

from __future__ import annotations

import numpy as np

from .config import CLASS_NAMES, PIXEL_MAX


def layer_seeds(seed: int | None, n: int) -> list[int | None]:
    """``n`` independent seeds derived from one (``None`` stays ``None``: fresh random draws).

    ``numpy.random.SeedSequence`` spreads one seed into unrelated integers, so random layers
    seeded from one run seed never share a stream.
    """
    if seed is None:
        return [None] * n
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]


def augmentation_layers(
    rotation: float = 0.05,
    zoom: float = 0.1,
    translation: float = 0.1,
    flip: bool = True,
    erasing: float = 0.0,
    seed: int | None = None,
):
    """Keras preprocessing layers for training-time augmentation of faces (pixels 0..255, float).

    ``rotation`` is a fraction of a full turn (0.05 = +-18 degrees); zoom and translation
    are fractions of the image size. ``erasing`` > 0 adds Keras' ``RandomErasing``: each batch
    draws a probability in [0, erasing] and that share of its faces get a mid-grey patch
    (measured at 0.5: about a quarter of the faces, patches of 2-18% of the face).
    These replace Keras 2's removed ``ImageDataGenerator``.

    ``seed`` fixes the layers' random streams. Each layer gets its own seed derived from it
    (``layer_seeds``): Keras layers given the same seed draw the same random stream, so
    rotation, zoom, shift and flip would move together instead of independently. Inside a
    ``tf.data`` ``map`` with parallel calls (``make_dataset``) batches take draws from the
    stream in whatever order the threads reach it, so the same seed does not give the same
    augmented batches twice; the draws stay independent and equally distributed.
    """
    import keras

    flip_seed, rotation_seed, zoom_seed, translation_seed, erasing_seed = layer_seeds(seed, 5)
    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=flip_seed))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation, fill_mode="reflect", seed=rotation_seed))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode="reflect", seed=zoom_seed))
    if translation:
        layers.append(
            keras.layers.RandomTranslation(translation, translation, fill_mode="reflect", seed=translation_seed)
        )
    if erasing:
        layers.append(
            keras.layers.RandomErasing(
                erasing, scale=(0.02, 0.2), fill_value=PIXEL_MAX / 2, value_range=(0, PIXEL_MAX), seed=erasing_seed
            )
        )
    return keras.Sequential(layers, name="augmentation")


def make_dataset(
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    batch_size: int = 64,
    shuffle: bool = False,
    augment=None,
    one_hot: bool = True,
    seed: int = 42,
    cache: bool = True,
):
    """A ``tf.data`` pipeline: uint8 faces -> float32 batches (pixels 0..255, as
    ``images.to_model_input``; the model rescales them), labels one-hot.

    Caches the decoded tensors, shuffles each epoch (``shuffle=True``), applies
    ``augment`` (a Keras layer/model, e.g. ``augmentation_layers()``) per batch on the
    fly, batches and prefetches.
    """
    import tensorflow as tf

    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    n_classes = len(CLASS_NAMES)
    ds = tf.data.Dataset.from_tensor_slices((x,) if y is None else (x, np.asarray(y)))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(min(len(x), 50_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def convert(*item):
        images = tf.cast(item[0], tf.float32)  # as images.to_model_input
        if augment is not None:
            images = augment(images, training=True)
        if y is None:
            return images
        labels = item[1]
        if one_hot:
            labels = tf.one_hot(labels, n_classes)
        return images, labels

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
