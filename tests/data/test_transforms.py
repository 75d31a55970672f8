"""Each transform's geometry on a known image, seeding, and vectorized batches."""
import numpy as np
import pytest

from layerwise.data import transforms as T


def _arrow(n=2, size=7):
    """A batch of an asymmetric picture: a bright horizontal bar and one marked pixel."""
    img = np.zeros((size, size), np.float32)
    img[1, 1:5] = 1.0
    img[4, 2] = 0.5
    return np.stack([img[None]] * n)


def rng(seed=0):
    return np.random.default_rng(seed)


def test_horizontal_and_vertical_flips():
    x = _arrow()
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x, rng()), x[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x, rng()), x[..., ::-1, :])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x, rng()), x)


def test_flip_probability_acts_per_image_and_input_is_untouched():
    x = np.arange(1000, dtype=np.float32).reshape(1000, 1, 1, 1).repeat(2, axis=3)
    x[..., 1] += 0.5
    original = x.copy()
    out = T.RandomHorizontalFlip(p=0.3)(x, rng())
    flipped = out[:, 0, 0, 0] != x[:, 0, 0, 0]
    assert 0.25 < flipped.mean() < 0.35
    np.testing.assert_array_equal(x, original)


@pytest.mark.parametrize("angle,k", [(90, 1), (180, 2), (-90, 3)])
def test_rotation_by_right_angles_is_counter_clockwise(angle, k):
    x = _arrow()
    out = T.RandomAffine(degrees=(angle, angle))(x, rng())
    np.testing.assert_allclose(out, np.rot90(x, k, axes=(2, 3)), atol=1e-5)


def test_translation_shifts_right_and_down_filling_the_border():
    x = _arrow(size=6)
    t = T.RandomAffine(translate=(0.5, 0.5))
    m_rng = rng(5)
    out = t(x, m_rng)
    # recover the drawn shift the same way the transform drew it
    r = rng(5)
    r.uniform(0, 0, size=2)
    dx = np.round(r.uniform(-3, 3, size=2))
    dy = np.round(r.uniform(-3, 3, size=2))
    for i in range(2):
        expected = np.zeros_like(x[i])
        sx, sy = int(dx[i]), int(dy[i])
        src = x[i][:, max(0, -sy):6 - max(0, sy), max(0, -sx):6 - max(0, sx)]
        expected[:, max(0, sy):max(0, sy) + src.shape[1], max(0, sx):max(0, sx) + src.shape[2]] = src
        np.testing.assert_allclose(out[i], expected, atol=1e-6)


def test_zoom_by_two_enlarges_the_centre():
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 2, 2] = 1.0
    out = T.RandomAffine(scale=(2.0, 2.0))(x, rng())
    assert out[0, 0, 2, 2] == pytest.approx(1.0)
    assert out[0, 0, 2, 3] == pytest.approx(0.5) and out[0, 0, 1, 2] == pytest.approx(0.5)


def test_random_crop_with_padding_is_a_shifted_window():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4).repeat(3, axis=0)
    out = T.RandomCrop(4, padding=1)(x, rng(2))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for i in range(3):
        windows = [padded[i, :, a:a + 4, b:b + 4] for a in range(3) for b in range(3)]
        assert any(np.array_equal(out[i], w) for w in windows)


def test_gaussian_noise_statistics_and_clip():
    x = np.full((200, 1, 10, 10), 0.5, np.float32)
    out = T.GaussianNoise(std=0.1)(x, rng())
    assert out.dtype == np.float32
    assert abs((out - x).std() - 0.1) < 0.005 and abs((out - x).mean()) < 0.005
    clipped = T.GaussianNoise(std=5.0, clip=(0.0, 1.0))(x, rng())
    assert clipped.min() == 0.0 and clipped.max() == 1.0


def test_salt_and_pepper_amount():
    x = np.full((100, 1, 20, 20), 0.5, np.float32)
    out = T.SaltAndPepper(amount=0.1)(x, rng())
    assert abs((out == 0).mean() - 0.05) < 0.005 and abs((out == 1).mean() - 0.05) < 0.005
    assert ((out == 0.5) | (out == 0) | (out == 1)).all()


def test_random_erasing_blanks_one_rectangle_per_chosen_image():
    x = np.ones((300, 1, 16, 16), np.float32)
    out = T.RandomErasing(p=1.0, scale=(0.1, 0.2), value=0.0)(x, rng())
    erased = (out == 0).reshape(300, -1).mean(axis=1)
    assert (erased > 0.05).all() and (erased < 0.3).all()
    for img in out[:20, 0]:
        rows, cols = np.nonzero(img == 0)
        assert (img[rows.min():rows.max() + 1, cols.min():cols.max() + 1] == 0).all()
    assert (T.RandomErasing(p=0.0)(x, rng()) == 1).all()


def test_rescale_and_standardize():
    x = np.array([0, 255], np.uint8).reshape(1, 1, 1, 2)
    np.testing.assert_allclose(T.Rescale()(x), [[[[0.0, 1.0]]]])
    data = np.random.default_rng(0).normal(3, 2, size=(500, 2, 4, 4)).astype(np.float32)
    standardized = T.Normalize.fit(data)(data)
    np.testing.assert_allclose(standardized.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(standardized.std(axis=(0, 2, 3)), 1, atol=1e-4)


def test_compose_from_spec_is_seeded():
    pipeline = T.from_spec("hflip,rotate=15,translate=0.1,scale=0.9:1.1,crop=2,noise=0.05,"
                           "saltpepper=0.01,erase")
    x = np.random.default_rng(1).random((8, 1, 28, 28)).astype(np.float32)
    a, b = pipeline(x, rng(7)), pipeline(x, rng(7))
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.float32
    affines = [t for t in pipeline.transforms if isinstance(t, T.RandomAffine)]
    assert len(affines) == 1  # rotation, translation and scaling resample once
    with pytest.raises(ValueError, match="unknown augmentation 'blur'"):
        T.from_spec("blur")
