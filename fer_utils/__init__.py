"""fer_utils: the shared code of the Face Emotion Recognition course.

Modules: ``config`` (constants, paths, profiles), ``data`` (loading, caching, splits,
tf.data), ``synthetic`` (demo faces), ``models``, ``training``, ``evaluation``,
``prediction``, ``plots``, ``report`` and ``cli``. TensorFlow is imported only by the
modules that need it.
"""

from .config import CLASS_NAMES, IMG_SIZE, NUM_CLASSES, get_profile

__version__ = "0.1.0"
__all__ = ["CLASS_NAMES", "IMG_SIZE", "NUM_CLASSES", "get_profile", "__version__"]
