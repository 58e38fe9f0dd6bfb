"""Synthetic handwritten-looking digits: a dataset that needs no download.

MNIST has to come from the internet; this dataset is made on the spot, so
every demo runs offline. It imitates MNIST's format exactly: 28 x 28 grey
levels 0..255, white strokes on black, the digit roughly in the central
20 x 20 box, labels 0..9.

How an image is made
--------------------
1. **Templates.** The glyphs '0'..'9' of several fonts that ship with
   matplotlib (DejaVu, STIX and Computer Modern, upright, bold and italic) are
   drawn large (64 x 64) on an off-screen Agg canvas, each at three stroke
   thicknesses. Fonts have thick stems and thin hairlines, pens do not:
   tracing the outline with a pen evens the strokes out, and the pen's width
   is chosen per glyph to bring its mean stroke thickness up to the wanted
   one. A slight Gaussian blur then removes detail finer than a 28 x 28
   pixel, so that resampling later does not alias.
2. **A random deformation** per image, as a map from output pixels back to
   template coordinates: an affine part (rotation, anisotropic scaling,
   shear, i.e. slant, and translation) plus a smooth random displacement
   field that makes strokes wobble like a pen rather than a font.
3. **Bilinear resampling** of the template at the 28 x 28 mapped points,
   done for thousands of images at once with NumPy indexing.

The template's centre of mass is mapped to the image centre, as MNIST does.
Everything random comes from ``np.random.default_rng(seed)``, so a seed gives
the same images bit for bit on the same machine.

:func:`load_synthetic_digits` makes a 60,000 / 10,000 train/test split (a few
seconds) and caches it in :func:`tinyvae.download.cache_dir`.
"""

from __future__ import annotations

import functools
import warnings
import zipfile
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D

from ..files import atomic_write
from .download import cache_dir

__all__ = ["make_synthetic_digits", "load_synthetic_digits"]

IMAGE_SIZE = 28  # output images are IMAGE_SIZE x IMAGE_SIZE, like MNIST
DIGIT_BOX = 20  # MNIST fits each digit into a 20 x 20 box before centring
TEMPLATE_SIZE = 64  # templates are drawn at this resolution
# Template pixels per output pixel: a glyph DIGIT_BOX output pixels tall is
# drawn DIGIT_BOX * SCALE template pixels tall.
SCALE = TEMPLATE_SIZE / IMAGE_SIZE

# Fonts bundled with every matplotlib (in mpl-data/fonts/ttf).
FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "STIXGeneralBolIta.ttf",
    "cmr10.ttf",
    "cmb10.ttf",
    "cmss10.ttf",
    "cmti10.ttf",
    "cmtt10.ttf",
)

# Mean stroke thicknesses of the templates, in output pixels (MNIST's strokes
# are about 2 to 3 pixels wide).
STROKE_THICKNESS = (1.5, 2.1, 2.8)

# Standard deviation, in template pixels, of the anti-aliasing blur.
BLUR_SIGMA = 1.0

# Ranges of the random deformation (uniform distributions).
MAX_ROTATION = np.deg2rad(12.0)  # radians, either way
SHEAR = (-0.15, 0.25)  # horizontal shift per unit of height: the slant, mostly to the right
SCALE_X = (0.8, 1.15)  # horizontal size relative to the template
SCALE_Y = (0.85, 1.05)  # vertical size relative to the template
MAX_SHIFT = 1.0  # translation in output pixels, each axis
WOBBLE = 0.8  # standard deviation of the smooth displacement, output pixels
WOBBLE_GRID = 4  # the displacement is interpolated from a WOBBLE_GRID^2 grid
INK_GAIN = (1.0, 1.5)  # grey levels are multiplied by this, then clipped at 1

# Images resampled per step: bounds memory use (about 100 MB) without
# slowing anything down.
CHUNK = 4096

# Bump when anything above changes, so that stale caches are not used.
FORMAT_VERSION = 1


def _glyph_path(digit: int, font: FontProperties, centre: tuple[float, float]):
    """The outline of ``digit`` in ``font``, scaled so that its longer side is
    ``DIGIT_BOX * SCALE`` template pixels, centred at ``centre`` (x, y), with
    y pointing down as in an image."""
    path = TextPath((0, 0), str(digit), size=1, prop=font)
    box = path.get_extents()
    size = DIGIT_BOX * SCALE / max(box.width, box.height)
    to_canvas = (
        Affine2D()
        .translate(-(box.x0 + box.x1) / 2, -(box.y0 + box.y1) / 2)
        .scale(size, -size)  # text has y up, images have y down
        .translate(*centre)
    )
    return to_canvas.transform_path(path)


def _stroke_thickness(path) -> float:
    """Mean stroke thickness of a filled outline: 2 * area / perimeter.

    A stroke of length L and thickness t has area L * t and an outline about
    2 * L long, so the ratio recovers t. The outline is flattened to polygons;
    the area comes from the shoelace formula, in which holes (drawn the other
    way round) count negatively.
    """
    polygons = path.to_polygons()
    area = abs(sum(np.sum(p[:-1, 0] * p[1:, 1] - p[1:, 0] * p[:-1, 1]) / 2 for p in polygons))
    perimeter = sum(np.hypot(*np.diff(p, axis=0).T).sum() for p in polygons)
    return 2 * area / perimeter


def _blur_matrix(size: int, sigma: float) -> np.ndarray:
    """B such that ``B @ image @ B.T`` is ``image`` blurred by a Gaussian of
    standard deviation ``sigma`` (separable convolution as two matrix products)."""
    offsets = np.subtract.outer(np.arange(size), np.arange(size))
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _templates() -> tuple[np.ndarray, np.ndarray]:
    """Render every (digit, font, stroke thickness) glyph, once per process.

    Returns
    -------
    templates : float32 (10, n_fonts, n_thicknesses, T + 2, T + 2), values in
        [0, 1], T = TEMPLATE_SIZE, with a one-pixel black border (resampling
        outside the template then reads black).
    centres : float32 (10, n_fonts, n_thicknesses, 2), each template's centre
        of mass (row, column) in the bordered coordinates.
    """
    font_dir = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    missing = [name for name in FONT_FILES if not (font_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"matplotlib's bundled fonts {missing} were expected in {font_dir}")

    # All glyphs go on one canvas, one TEMPLATE_SIZE cell each: digits along x,
    # (font, thickness) along y. At dpi=72 a point is a pixel, so line widths
    # and coordinates are both in template pixels.
    T = TEMPLATE_SIZE
    rows = len(FONT_FILES) * len(STROKE_THICKNESS)
    figure = Figure(figsize=(10 * T / 72, rows * T / 72), dpi=72, facecolor="black")
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    axes.set_xlim(0, 10 * T)
    axes.set_ylim(rows * T, 0)
    for f, font_file in enumerate(FONT_FILES):
        font = FontProperties(fname=font_dir / font_file)
        for digit in range(10):
            for k, thickness in enumerate(STROKE_THICKNESS):
                row = f * len(STROKE_THICKNESS) + k
                path = _glyph_path(digit, font, centre=((digit + 0.5) * T, (row + 0.5) * T))
                # A pen of width w moves the outline w/2 outwards, thickening
                # every stroke by w. Glyphs already thicker than wanted are left
                # as they are: thinning them would break their hairlines.
                pen = max(0.0, thickness * SCALE - _stroke_thickness(path))
                axes.add_patch(PathPatch(path, facecolor="white", edgecolor="white", linewidth=pen))
    canvas.draw()
    sheet = np.asarray(canvas.buffer_rgba())[:, :, 0].astype(np.float32) / 255

    # Cut the sheet into cells: (rows, T, 10, T) -> (10, rows, T, T).
    cells = sheet.reshape(rows, T, 10, T).transpose(2, 0, 1, 3)
    blur = _blur_matrix(T, BLUR_SIGMA)
    cells = np.pad(blur @ cells @ blur.T, [(0, 0), (0, 0), (1, 1), (1, 1)])
    templates = cells.reshape(10, len(FONT_FILES), len(STROKE_THICKNESS), T + 2, T + 2)

    # Centre of mass: intensity-weighted mean of the row and column indices.
    index = np.arange(T + 2, dtype=np.float32)
    mass = templates.sum(axis=(-2, -1))
    centres = np.stack(
        [
            (templates.sum(axis=-1) * index).sum(axis=-1) / mass,
            (templates.sum(axis=-2) * index).sum(axis=-1) / mass,
        ],
        axis=-1,
    )
    return templates, centres


def _interpolation_matrix(n_out: int, n_in: int) -> np.ndarray:
    """U (n_out, n_in) such that ``U @ v`` linearly interpolates ``v`` from
    ``n_in`` evenly spaced points to ``n_out`` points over the same interval."""
    positions = np.linspace(0, n_in - 1, n_out)
    return np.maximum(0, 1 - np.abs(positions[:, None] - np.arange(n_in))).astype(np.float32)


def _bilinear(images: np.ndarray, which: np.ndarray, rows: np.ndarray, cols: np.ndarray):
    """Sample ``images[which]`` at fractional coordinates, bilinearly.

    images : (K, H, W) with a black border, so that coordinates outside
        [0, H-1] x [0, W-1] read black.
    which : (n,) index of the image each sample comes from.
    rows, cols : (n, ...) coordinates. Returns an array of their shape.
    """
    _, H, W = images.shape
    flat = images.reshape(-1)
    # Clipping the integer part to the border and the fraction to [0, 1]
    # makes every out-of-range point read the border's black pixels.
    r0 = np.clip(np.floor(rows), 0, H - 2)
    c0 = np.clip(np.floor(cols), 0, W - 2)
    fr = np.clip(rows - r0, 0, 1)
    fc = np.clip(cols - c0, 0, 1)
    # Flat index of the top-left neighbour; the others are +1, +W and +W+1.
    image_start = which.reshape((-1,) + (1,) * (rows.ndim - 1)) * (H * W)
    base = image_start + r0.astype(np.intp) * W + c0.astype(np.intp)
    top = (1 - fc) * flat[base] + fc * flat[base + 1]
    bottom = (1 - fc) * flat[base + W] + fc * flat[base + W + 1]
    return (1 - fr) * top + fr * bottom


def _check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer number of images, got {value!r}")


def make_synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n`` labelled synthetic digit images.

    Returns ``(images, labels)``: uint8 (n, 28, 28) grey levels 0..255 (white
    on black) and uint8 (n,) digits 0..9. Each digit appears n // 10 or
    n // 10 + 1 times, in random order. The same ``seed`` gives the same
    arrays, bit for bit.
    """
    _check_count("n", n)
    templates, centres = _templates()
    _, n_fonts, n_thicknesses, H, W = templates.shape
    rng = np.random.default_rng(seed)

    # Draw every random choice up front, so that the result does not depend on
    # how the work is split into chunks below.
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    font = rng.integers(n_fonts, size=n)
    thickness = rng.integers(n_thicknesses, size=n)
    angle = rng.uniform(-MAX_ROTATION, MAX_ROTATION, size=n)
    shear = rng.uniform(*SHEAR, size=n)
    scale_x = rng.uniform(*SCALE_X, size=n)
    scale_y = rng.uniform(*SCALE_Y, size=n)
    shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, size=(n, 2))
    wobble = rng.normal(0, WOBBLE, size=(n, 2, WOBBLE_GRID, WOBBLE_GRID)).astype(np.float32)
    gain = rng.uniform(*INK_GAIN, size=(n, 1, 1)).astype(np.float32)

    # Forward deformation of the digit, in (row, column) coordinates:
    # A = rotation @ shear @ scaling, where the shear slants the digit by
    # moving each row sideways in proportion to its height above the centre.
    cos, sin, zero, one = np.cos(angle), np.sin(angle), np.zeros(n), np.ones(n)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    slant = np.stack([np.stack([one, zero], -1), np.stack([-shear, one], -1)], -2)
    scaling = np.stack([np.stack([scale_y, zero], -1), np.stack([zero, scale_x], -1)], -2)
    forward = rotation @ slant @ scaling
    # Resampling needs the inverse: output pixel -> template point.
    to_template = (SCALE * np.linalg.inv(forward)).astype(np.float32)

    # Output pixel centres relative to the image centre, (28*28, 2).
    pixel = np.arange(IMAGE_SIZE, dtype=np.float32) - (IMAGE_SIZE - 1) / 2
    grid = np.stack(np.meshgrid(pixel, pixel, indexing="ij"), -1).reshape(-1, 2)
    upsample = _interpolation_matrix(IMAGE_SIZE, WOBBLE_GRID)

    which = (labels.astype(np.intp) * n_fonts + font) * n_thicknesses + thickness
    flat_templates = templates.reshape(-1, H, W)
    flat_centres = centres.reshape(-1, 2)
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for start in range(0, n, CHUNK):
        part = slice(start, start + CHUNK)
        # Smooth displacement field (m, 28*28, 2), interpolated from the grid.
        displacement = (upsample @ wobble[part] @ upsample.T).reshape(-1, 2, IMAGE_SIZE**2)
        # Undo translation and wobble, then the affine map, then place the
        # image centre on the template's centre of mass.
        points = grid - shift[part, None, :].astype(np.float32) - displacement.transpose(0, 2, 1)
        points = points @ to_template[part].transpose(0, 2, 1) + flat_centres[which[part], None, :]
        grey = _bilinear(flat_templates, which[part], points[..., 0], points[..., 1])
        grey = grey.reshape(-1, IMAGE_SIZE, IMAGE_SIZE) * gain[part]
        images[part] = np.rint(255 * np.clip(grey, 0, 1))
    return images, labels


def _cache_path(seed: int, n_train: int, n_test: int) -> Path:
    return cache_dir() / f"synthetic_digits_v{FORMAT_VERSION}_seed{seed}_{n_train}_{n_test}.npz"


def _read_cache(path: Path, n_train: int, n_test: int):
    """The four arrays stored at ``path``, or None if the file is missing,
    unreadable, or does not hold what it should."""
    if not path.is_file():
        return None
    expected = {
        "x_train": (n_train, IMAGE_SIZE, IMAGE_SIZE),
        "y_train": (n_train,),
        "x_test": (n_test, IMAGE_SIZE, IMAGE_SIZE),
        "y_test": (n_test,),
    }
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in expected}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        warnings.warn(
            f"ignoring unreadable cache file {path} ({error}); regenerating it", stacklevel=3
        )
        return None
    if any(
        arrays[name].shape != shape or arrays[name].dtype != np.uint8
        for name, shape in expected.items()
    ):
        warnings.warn(
            f"ignoring cache file {path}: unexpected array shapes or dtypes; regenerating it",
            stacklevel=3,
        )
        return None
    return tuple(arrays[name] for name in expected)


def load_synthetic_digits(
    seed: int = 0,
    n_train: int = 60000,
    n_test: int = 10000,
    cache: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The synthetic digits as ``(x_train, y_train, x_test, y_test)``, like MNIST.

    ``x_*`` are uint8 (N, 28, 28), ``y_*`` uint8 (N,). The training and test
    images are independent draws from the same generator
    (:func:`make_synthetic_digits` with ``n_train + n_test`` images, split).

    With ``cache`` the arrays are stored in ``cache_dir()`` as an ``.npz``
    file named after the seed, the sizes and the format version, and read
    from there next time. A damaged cache file is regenerated, never trusted;
    a cache that cannot be written only costs a warning.
    """
    _check_count("n_train", n_train)
    _check_count("n_test", n_test)
    path = _cache_path(seed, n_train, n_test)
    if cache and (stored := _read_cache(path, n_train, n_test)) is not None:
        return stored

    images, labels = make_synthetic_digits(n_train + n_test, seed)
    arrays = (images[:n_train], labels[:n_train], images[n_train:], labels[n_train:])
    if cache:
        try:
            with atomic_write(path) as f:
                np.savez(f, **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays)))
        except OSError as error:
            warnings.warn(
                f"could not write the cache file {path} ({error}); continuing without it",
                stacklevel=2,
            )
    return arrays
