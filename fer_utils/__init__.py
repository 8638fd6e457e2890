"""fer_utils: the shared code of the Face Emotion Recognition course.

Modules: ``config`` (constants, paths, profiles), ``images`` (one face, file to model
input), ``data`` (find, decode, cache, check FER-2013), ``protocol`` (splits), ``pipeline``
(augmentation, tf.data), ``synthetic`` (demo faces), ``models`` (each scales its own input),
``training``, ``evaluation``, ``prediction``, ``plots``, ``report`` and ``cli``
(ARCHITECTURE.md draws them all). TensorFlow is imported only by the modules that need it.
"""

from .config import CLASS_NAMES, IMG_SIZE, NUM_CLASSES, get_profile

__version__ = "0.1.0"
__all__ = ["CLASS_NAMES", "IMG_SIZE", "NUM_CLASSES", "get_profile", "__version__"]
