"""gan_utils: the shared package of the executable GAN course.

Framework-neutral modules (import neither PyTorch nor TensorFlow):

- :mod:`gan_utils.profile` -- the smoke/full run profiles, notebook knobs, seeding;
- :mod:`gan_utils.data` -- MNIST from ``data/mnist/`` with checksum verification;
- :mod:`gan_utils.toy` -- small 1-D and 2-D target distributions;
- :mod:`gan_utils.plot` -- image grids, loss curves, training animations;
- :mod:`gan_utils.execute` -- re-run chapters under the full profile (papermill).

Importing ``gan_utils`` itself is cheap: it imports no deep-learning framework.
"""

from pathlib import Path

__version__ = "0.1.0"

#: Root of the repository (the folder holding ``_config.yml``).
REPO_ROOT = Path(__file__).resolve().parent.parent
