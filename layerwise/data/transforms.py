"""Normalization and augmentation of image batches (N, C, H, W), vectorized and seeded.

Every transform is a callable ``t(images, rng=None) -> images`` that works on a
whole batch at once (no Python loop over pixels or images) and never modifies its
input. ``rng`` is a ``numpy.random.Generator`` (the DataLoader passes its own
per-epoch generator, so augmentation is reproducible given the seed).

The course's two normalizations: rescaling to [0, 1] (``Rescale``) and
standardization to zero mean and unit variance (``Normalize``/``Standardize``).
"""
import numpy as np

from ..autograd.random import get_rng
from .geometry import crop_batch, inverse_affine_matrices, rectangle_masks, warp_affine


def _rng(rng):
    return get_rng() if rng is None else rng


class Transform:
    def __call__(self, images, rng=None):  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply transforms in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, images, rng=None):
        rng = _rng(rng)
        for t in self.transforms:
            images = t(images, rng)
        return images


class Rescale(Transform):
    """x ↦ x · scale (e.g. 1/255 to bring bytes to [0, 1]), as float32."""

    def __init__(self, scale=1 / 255):
        self.scale = scale

    def __call__(self, images, rng=None):
        return images.astype(np.float32) * np.float32(self.scale)


class Normalize(Transform):
    """Standardization per channel: x ↦ (x - mean_c) / std_c."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
        if np.any(self.std <= 0):
            raise ValueError(f"Normalize: std must be positive, got {self.std.ravel()}")

    @classmethod
    def fit(cls, images):
        """Mean and standard deviation per channel of a (N, C, H, W) training set."""
        images = np.asarray(images, dtype=np.float64)
        return cls(images.mean(axis=(0, 2, 3)), images.std(axis=(0, 2, 3)))

    def __call__(self, images, rng=None):
        return ((images - self.mean) / self.std).astype(np.float32, copy=False)

    def __repr__(self):
        return f"Normalize(mean={self.mean.ravel().tolist()}, std={self.std.ravel().tolist()})"


Standardize = Normalize


class RandomHorizontalFlip(Transform):
    """Mirror left-right each image with probability ``p``."""

    axis = -1

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, images, rng=None):
        chosen = _rng(rng).random(len(images)) < self.p
        out = images.copy()
        out[chosen] = np.flip(images[chosen], axis=self.axis)
        return out


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom each image with probability ``p``."""

    axis = -2


class RandomAffine(Transform):
    """Random rotation (± ``degrees``), translation (± fraction of size) and scaling.

    One bilinear resampling for all three; outside pixels take ``fill``.
    """

    def __init__(self, degrees=0.0, translate=None, scale=None, fill=0.0):
        self.degrees = (-degrees, degrees) if np.isscalar(degrees) else tuple(degrees)
        self.translate, self.scale, self.fill = translate, scale, fill

    def __call__(self, images, rng=None):
        rng = _rng(rng)
        n, _, h, w = images.shape
        angles = rng.uniform(*self.degrees, size=n)
        shifts = np.zeros((n, 2))
        if self.translate is not None:
            tx, ty = (self.translate, self.translate) if np.isscalar(self.translate) \
                else self.translate
            shifts[:, 0] = np.round(rng.uniform(-tx * w, tx * w, size=n))
            shifts[:, 1] = np.round(rng.uniform(-ty * h, ty * h, size=n))
        scales = rng.uniform(*self.scale, size=n) if self.scale is not None else np.ones(n)
        return warp_affine(images, inverse_affine_matrices(angles, scales, shifts, h, w),
                           self.fill)


def RandomRotation(degrees, fill=0.0):
    """Rotate by an angle drawn from [-degrees, degrees] (counter-clockwise positive)."""
    return RandomAffine(degrees=degrees, fill=fill)


def RandomTranslation(fraction, fill=0.0):
    """Shift by up to ``fraction`` of the width/height (whole pixels)."""
    return RandomAffine(translate=fraction, fill=fill)


def RandomScaling(low, high, fill=0.0):
    """Zoom by a factor drawn from [low, high] (> 1 enlarges the content)."""
    return RandomAffine(scale=(low, high), fill=fill)


class RandomCrop(Transform):
    """Pad by ``padding`` pixels (with ``fill``), then crop a random ``size`` window."""

    def __init__(self, size, padding=0, fill=0.0):
        self.size = (size, size) if np.isscalar(size) else tuple(size)
        self.padding, self.fill = padding, fill

    def __call__(self, images, rng=None):
        rng = _rng(rng)
        p = self.padding
        padded = np.pad(images, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.fill) \
            if p else images
        h, w = self.size
        n, _, ph, pw = padded.shape
        if h > ph or w > pw:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the padded "
                             f"image {(ph, pw)}")
        tops = rng.integers(0, ph - h + 1, size=n)
        lefts = rng.integers(0, pw - w + 1, size=n)
        return crop_batch(padded, tops, lefts, h, w)


class GaussianNoise(Transform):
    """x ↦ x + N(0, std²), clipped to ``clip`` (e.g. (0, 1)) if given."""

    def __init__(self, std=0.1, clip=None):
        self.std, self.clip = std, clip

    def __call__(self, images, rng=None):
        noise = _rng(rng).standard_normal(images.shape, dtype=np.float32)
        out = images + np.float32(self.std) * noise
        return np.clip(out, *self.clip) if self.clip is not None else out


class SaltAndPepper(Transform):
    """Set a fraction ``amount`` of pixels to ``low`` (pepper) or ``high`` (salt), half each."""

    def __init__(self, amount=0.05, low=0.0, high=1.0):
        self.amount, self.low, self.high = amount, low, high

    def __call__(self, images, rng=None):
        u = _rng(rng).random(images.shape)
        out = images.copy()
        out[u < self.amount / 2] = self.low
        out[u > 1 - self.amount / 2] = self.high
        return out


class RandomErasing(Transform):
    """Zhong et al. (2017): with probability ``p`` blank a random rectangle of each image.

    Its area is a fraction in ``scale`` of the image, its aspect ratio (h/w) in
    ``ratio`` (log-uniform); rectangles larger than the image are clipped to it.
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0):
        self.p, self.scale, self.ratio, self.value = p, scale, ratio, value

    def __call__(self, images, rng=None):
        rng = _rng(rng)
        n, _, h, w = images.shape
        area = rng.uniform(*self.scale, size=n) * h * w
        aspect = np.exp(rng.uniform(np.log(self.ratio[0]), np.log(self.ratio[1]), size=n))
        heights = np.clip(np.round(np.sqrt(area * aspect)), 1, h).astype(np.int64)
        widths = np.clip(np.round(np.sqrt(area / aspect)), 1, w).astype(np.int64)
        tops = (rng.random(n) * (h - heights + 1)).astype(np.int64)
        lefts = (rng.random(n) * (w - widths + 1)).astype(np.int64)
        chosen = (rng.random(n) < self.p)[:, None, None, None]
        mask = rectangle_masks(tops, lefts, heights, widths, h, w) & chosen
        return np.where(mask, images.dtype.type(self.value), images)


def from_spec(spec, image_size=(28, 28)):
    """Build a pipeline from a CLI string such as ``"hflip,rotate=10,translate=0.1,erase"``.

    Names: hflip[=p], vflip[=p], rotate=DEG, translate=FRAC, scale=LOW:HIGH,
    crop=PAD, noise=STD, saltpepper=AMOUNT, erase[=p]. Rotation, translation and
    scaling are merged into one ``RandomAffine`` (one resampling, not three).
    """
    affine = {}
    makers = {
        "hflip": lambda v: RandomHorizontalFlip(float(v or 0.5)),
        "vflip": lambda v: RandomVerticalFlip(float(v or 0.5)),
        "rotate": lambda v: affine.__setitem__("degrees", float(v or 10)),
        "translate": lambda v: affine.__setitem__("translate", float(v or 0.1)),
        "scale": lambda v: affine.__setitem__(
            "scale", tuple(float(x) for x in (v or "0.9:1.1").split(":"))),
        "crop": lambda v: RandomCrop(image_size, padding=int(v or 2)),
        "noise": lambda v: GaussianNoise(float(v or 0.05), clip=(0.0, 1.0)),
        "saltpepper": lambda v: SaltAndPepper(float(v or 0.02)),
        "erase": lambda v: RandomErasing(float(v or 0.5)),
    }
    steps = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, value = item.partition("=")
        if name not in makers:
            raise ValueError(f"unknown augmentation {name!r}; choose from {', '.join(makers)}")
        step = makers[name](value)
        if step is not None:
            steps.append(step)
        elif "affine" not in steps:
            steps.append("affine")
    return Compose([RandomAffine(**affine) if s == "affine" else s for s in steps])
