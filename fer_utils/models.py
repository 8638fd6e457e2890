"""CNN architectures of the course, all built from plain Keras layers.

* ``build_simple_cnn``: the classic 4-conv Keras FER-2013 CNN (notebook 02's baseline),
  with switches for kernel size, batch normalization and dropout (notebook 04).
* ``build_vgg_bn``: a VGG-style network with batch normalization, the course's recipe.

Every model takes float32 ``(None, 48, 48, 1)`` faces with pixels 0..255, as they are on disk,
and scales them itself: its first layer is ``rescaling()`` (a Keras ``Rescaling`` to [0, 1]), so
the data pipeline, the CLI, the notebooks and evaluation cannot disagree about scaling. Models
saved before that convention (they expect [0, 1]) are recognised by ``scales_its_input`` and
adapted by ``add_input_scaling`` when loaded. Every model ends in a float32 softmax over
``CLASS_NAMES`` (so mixed precision leaves the output exact).
"""

from __future__ import annotations

import keras
from keras import layers

from .config import INPUT_SHAPE, NUM_CLASSES, PIXEL_MAX


def rescaling() -> layers.Layer:
    """The first layer of every model: pixels 0..255 -> [0, 1]."""
    return layers.Rescaling(1.0 / PIXEL_MAX, name="rescale")


def scales_its_input(model: keras.Model) -> bool:
    """True if ``model`` divides its input by ``PIXEL_MAX`` itself (this course's convention);
    False for a model saved before it, which expects pixels already in [0, 1]."""
    return any(
        isinstance(layer, layers.Rescaling) and abs(float(layer.scale) * PIXEL_MAX - 1.0) < 1e-6
        for layer in model.layers[:3]
    )


def add_input_scaling(model: keras.Model) -> keras.Model:
    """A copy of a [0, 1]-input functional model with ``rescaling()`` in front, sharing its weights
    (layer names unchanged, so feature maps and Grad-CAM still find them). Returns ``model`` itself
    if it already scales its input."""
    if scales_its_input(model):
        return model
    if isinstance(model, keras.Sequential):
        return keras.Sequential([keras.Input(INPUT_SHAPE, name="face"), rescaling(), *model.layers], name=model.name)
    inputs = keras.Input(INPUT_SHAPE, name="face")

    def call(layer, *args, **kwargs):
        if args and args[0] is inputs:  # the layer that read the [0, 1] input now reads rescaled pixels
            args = (rescaling()(inputs),) + args[1:]
        return layer(*args, **kwargs)

    return keras.models.clone_model(model, inputs, clone_function=lambda layer: layer, call_function=call)


def _conv(x, filters: int, kernel_size: int, batch_norm: bool, l2: float, name: str, bn_momentum: float = 0.99):
    reg = keras.regularizers.L2(l2) if l2 else None
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=not batch_norm, kernel_regularizer=reg, name=name)(
        x
    )
    if batch_norm:
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _head(x, dense_units: int, dropout: float, batch_norm: bool, bn_momentum: float = 0.99):
    if dense_units:
        x = layers.Dense(dense_units, use_bias=not batch_norm, name="fc")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=bn_momentum, name="fc_bn")(x)
        x = layers.Activation("relu", name="fc_relu")(x)
        if dropout:
            x = layers.Dropout(dropout, name="fc_dropout")(x)
    return layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="emotion")(x)


def _squeeze_excite(x, filters: int, ratio: int, name: str):
    """Squeeze-and-excitation (Hu et al., 2018): re-weight the channels by a gate computed from
    their global averages, ``filters // ratio`` hidden units."""
    s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_squeeze")(x)
    s = layers.Dense(max(filters // ratio, 4), activation="relu", name=f"{name}_se_reduce")(s)
    s = layers.Dense(filters, activation="sigmoid", name=f"{name}_se_expand")(s)
    return layers.Multiply(name=f"{name}_se_scale")([x, s])


def build_simple_cnn(
    filters: tuple[int, ...] = (32, 64, 128, 128),
    kernel_size: int = 3,
    dense_units: int = 1024,
    dropout: float = 0.25,
    batch_norm: bool = False,
    bn_momentum: float = 0.99,
    name: str = "simple_cnn",
) -> keras.Model:
    """The popular 4-conv FER-2013 CNN: conv-conv-pool-dropout, (conv-pool) x2, dropout,
    flatten, a 1024-unit fully connected layer and a softmax.

    ``dropout`` is the rate after the conv blocks; the dense layer gets twice it (max 0.5).
    ``bn_momentum`` is Keras' default 0.99; short runs want less (0.9: the moving averages then
    follow the last ~10 batches instead of ~100).
    """
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = rescaling()(inputs)
    x = _conv(x, filters[0], kernel_size, batch_norm, 0.0, "conv1", bn_momentum)
    x = _conv(x, filters[1], kernel_size, batch_norm, 0.0, "conv2", bn_momentum)
    x = layers.MaxPooling2D(name="pool1")(x)
    if dropout:
        x = layers.Dropout(dropout, name="drop1")(x)
    for i, f in enumerate(filters[2:], start=3):
        x = _conv(x, f, kernel_size, batch_norm, 0.0, f"conv{i}", bn_momentum)
        x = layers.MaxPooling2D(name=f"pool{i - 1}")(x)
    if dropout:
        x = layers.Dropout(dropout, name="drop2")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = _head(x, dense_units, min(2 * dropout, 0.5), batch_norm, bn_momentum)
    return keras.Model(inputs, outputs, name=name)


def build_vgg_bn(
    width: int = 32,
    blocks: int = 4,
    convs_per_block: int = 2,
    kernel_size: int = 3,
    dropout: float = 0.4,
    block_dropout: float = 0.1,
    dense_units: int = 256,
    l2: float = 0.0,
    batch_norm: bool = True,
    bn_momentum: float = 0.99,
    se_ratio: int = 0,
    name: str = "vgg_bn",
) -> keras.Model:
    """VGG-style CNN with batch normalization: ``blocks`` stages of ``convs_per_block``
    3x3 conv-BN-ReLU layers, doubling the filters (from ``width``) and halving the
    resolution at each stage, then global average pooling, a dense layer and a softmax.
    ``batch_norm=False`` drops every BatchNormalization layer (the convolutions get biases);
    ``se_ratio`` > 0 ends each stage with a squeeze-and-excitation gate of that reduction ratio.
    """
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = rescaling()(inputs)
    for b in range(blocks):
        filters = width * 2**b
        for c in range(convs_per_block):
            x = _conv(x, filters, kernel_size, batch_norm, l2, f"block{b + 1}_conv{c + 1}", bn_momentum)
        if se_ratio:
            x = _squeeze_excite(x, filters, se_ratio, f"block{b + 1}")
        x = layers.MaxPooling2D(name=f"block{b + 1}_pool")(x)
        if block_dropout:
            x = layers.Dropout(block_dropout, name=f"block{b + 1}_dropout")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = _head(x, dense_units, dropout, batch_norm, bn_momentum)
    return keras.Model(inputs, outputs, name=name)
