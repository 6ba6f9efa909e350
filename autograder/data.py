"""Small digit-like data, deterministic by seed: seven-segment strokes drawn at 28x28 with shifts and noise.

Used by the tests and by `nnexam train` when MNIST (torchvision and its files) is not on the machine.
"""

from __future__ import annotations

import numpy as np

SEGMENTS = {  # seven-segment strokes: (row0, col0, row1, col1) on a 28x28 canvas
    "a": (6, 9, 6, 19), "b": (6, 19, 14, 19), "c": (14, 19, 22, 19), "d": (22, 9, 22, 19),
    "e": (14, 9, 22, 9), "f": (6, 9, 14, 9), "g": (14, 9, 14, 19),
}
DIGITS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]


def digits(n: int, seed: int = 0, noise: float = 0.1, shift: int = 3,
           ink: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """n images (n, 1, 28, 28) in [0, 1] and their labels 0-9.

    Each image is moved by up to `shift` pixels both ways; with ink < 1 its strokes get a random intensity in
    [ink, 1] (the defaults draw exactly the images they always drew)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = np.zeros((n, 1, 28, 28), dtype=np.float32)
    for i, label in enumerate(labels):
        dy, dx = rng.integers(-shift, shift + 1, 2)
        level = rng.uniform(ink, 1) if ink < 1 else 1
        for seg in DIGITS[label]:
            r0, c0, r1, c1 = SEGMENTS[seg]
            images[i, 0, min(r0, r1) + dy - 1:max(r0, r1) + dy + 2, min(c0, c1) + dx - 1:max(c0, c1) + dx + 2] = level
    images += rng.normal(0, noise, images.shape).astype(np.float32)
    return np.clip(images, 0, 1), labels
