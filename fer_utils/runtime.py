"""The machine a run is on: seeds, hardware description, precision policy, quiet TensorFlow start-up.

Nothing here knows about faces or models; every other module may import it.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager


@contextmanager
def silenced_native_stderr():
    """Send file descriptor 2 to /dev/null for a moment: TensorFlow's C++ logging at import
    ignores Python's ``sys.stderr``. Python exceptions still show (they use ``sys.stderr``)."""
    try:
        sys.stderr.flush()
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no usable fd 2: nothing to silence
        yield
        return
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def set_seed(seed: int = 42) -> None:
    """Seed Python, NumPy and TensorFlow (``PYTHONHASHSEED`` must be set before Python starts)."""
    import keras

    keras.utils.set_random_seed(seed)


def has_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def hardware_description() -> str:
    """A one-line description of the machine: GPU name, or CPU model and core count."""
    import platform

    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"{len(gpus)} x GPU {details.get('device_name', 'unknown')}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"CPU {cpu}, {os.cpu_count()} cores, no GPU"


def cpu_has_bf16() -> bool:
    """True when the CPU has bfloat16 instructions (AVX512-BF16 or AMX)."""
    try:
        with open("/proc/cpuinfo") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def setup_precision(policy: str = "auto") -> str:
    """Set the Keras dtype policy and return its name.

    ``auto``: ``mixed_float16`` on a GPU; on a CPU ``mixed_bfloat16`` only when the CPU
    has bfloat16 instructions, else ``float32``. (Measured on a 2-core AMD EPYC with AVX2
    only: ``mixed_bfloat16`` trained about 9-11x *slower* than float32.)
    """
    import keras

    if policy == "auto":
        policy = "mixed_float16" if has_gpu() else ("mixed_bfloat16" if cpu_has_bf16() else "float32")
    keras.mixed_precision.set_global_policy(policy)
    return policy
