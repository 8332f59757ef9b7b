"""gan_utils: the shared package of the executable GAN course.

Framework-neutral modules (import neither PyTorch nor TensorFlow):

- :mod:`gan_utils.profile` -- the smoke/full run profiles, notebook knobs, seeding;
- :mod:`gan_utils.data` -- MNIST from ``data/mnist/`` with checksum verification;
- :mod:`gan_utils.toy` -- small 1-D and 2-D target distributions;
- :mod:`gan_utils.plot` -- image grids, loss curves, training animations;
- :mod:`gan_utils.metrics` -- FID, KID, Inception-style score, precision/recall, coverage;
- :mod:`gan_utils.minimax` -- the maths of chapter 2 (optimal discriminator, JSD, Dirac-GAN);
- :mod:`gan_utils.execute` -- re-run chapters under the full profile (papermill);
- :mod:`gan_utils.build` -- build the book and check it works offline;
- :mod:`gan_utils.exercises` -- checkers for the code exercises.

Framework halves with mirrored names: :mod:`gan_utils.torch` and :mod:`gan_utils.tensorflow`.

Importing ``gan_utils`` itself is cheap: it imports no deep-learning framework.
"""

from pathlib import Path

__version__ = "0.1.0"

#: Root of the repository (the folder holding ``_config.yml``).
REPO_ROOT = Path(__file__).resolve().parent.parent
