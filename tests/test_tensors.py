"""Batched augmentation, normalisation, resizing, statistics and resident splits."""
from __future__ import annotations

import pytest
import torch

from data.tensors import (
    CropFlip, augment_batch, channel_mean_std, crop_flip, draw_crop_flip,
    normalize, resize_images,
)
from data.sources import ResidentImages
from data.types import LTDataset

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def reference_crop_flip(images: torch.Tensor, rows, cols, flips, pad: int) -> torch.Tensor:
    """torchvision's RandomCrop(padding=pad) + RandomHorizontalFlip, one image at a time."""
    out = []
    _, channels, height, width = images.shape
    for image, top, left, flip in zip(images, rows.tolist(), cols.tolist(), flips.tolist()):
        canvas = torch.zeros(channels, height + 2 * pad, width + 2 * pad, dtype=images.dtype)
        canvas[:, pad:pad + height, pad:pad + width] = image
        crop = canvas[:, top:top + height, left:left + width]
        out.append(crop.flip(-1) if flip else crop)
    return torch.stack(out)


def random_images(n: int, height: int = 10, width: int = 7, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1, 256, (n, 3, height, width), generator=generator, dtype=torch.uint8)


@pytest.mark.parametrize("pad", [0, 2, 4])
def test_crop_flip_matches_the_per_sample_reference(pad):
    images = random_images(64)
    params = draw_crop_flip(64, torch.Generator().manual_seed(1), pad)
    expected = reference_crop_flip(images, params.rows, params.cols, params.flips, pad)
    assert torch.equal(crop_flip(images, params, pad), expected)


def test_every_offset_and_both_flip_states_occur():
    params = draw_crop_flip(4000, torch.Generator().manual_seed(0), pad=4)
    assert params.rows.unique().tolist() == list(range(9)) == params.cols.unique().tolist()
    assert 0.45 < params.flips.float().mean() < 0.55  # 4000 fair coin flips: σ ≈ 0.008


def test_explicit_offsets_crop_where_they_say():
    images = torch.arange(2 * 3 * 4 * 4, dtype=torch.uint8).reshape(2, 3, 4, 4)
    params = CropFlip(rows=torch.tensor([0, 2]), cols=torch.tensor([2, 0]), flips=torch.tensor([False, True]))
    out = crop_flip(images, params, pad=1)
    # image 0: row offset 0 starts in the padding; column offset 2 starts at image column 1
    assert out[0, 0, 0].tolist() == [0, 0, 0, 0]
    assert out[0, 0, 1].tolist() == images[0, 0, 0, 1:].tolist() + [0]
    # image 1: rows 2..5 and columns 0..3 of the padded image, mirrored
    assert out[1, 2, 0].tolist() == list(reversed([0] + images[1, 2, 1, :3].tolist()))


@pytest.mark.parametrize("device", DEVICES)
def test_augment_batch_is_reproducible_and_keeps_dtype_and_device(device):
    images = random_images(32).to(device)
    first = augment_batch(images, torch.Generator().manual_seed(7))
    again = augment_batch(images, torch.Generator().manual_seed(7))
    params = draw_crop_flip(32, torch.Generator().manual_seed(7))
    assert first.dtype == torch.uint8 and first.device == images.device and first.shape == images.shape
    assert torch.equal(first, again)
    assert torch.equal(first.cpu(), reference_crop_flip(images.cpu(), params.rows, params.cols, params.flips, 4))
    assert not torch.equal(first, augment_batch(images, torch.Generator().manual_seed(8)))


@pytest.mark.parametrize("device", DEVICES)
def test_normalize_follows_the_formula(device):
    images = random_images(5).to(device)
    mean, std = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
    out = normalize(images, mean, std)
    expected = (images.cpu().double() / 255 - torch.tensor(mean, dtype=torch.float64).view(3, 1, 1)) \
        / torch.tensor(std, dtype=torch.float64).view(3, 1, 1)
    assert out.dtype == torch.float32 and out.device == images.device
    assert torch.allclose(out.cpu().double(), expected, atol=1e-5)
    assert torch.allclose(normalize(images[0], mean, std).cpu().double(), expected[0], atol=1e-5)
    as_float = images.float()
    normalize(as_float, mean, std)
    assert torch.equal(as_float, images.float())  # the input is never modified


def test_normalize_makes_its_device_constants_once_and_matches_tensor_stats():
    from data.tensors import _stats_on

    images = random_images(4)
    mean, std = [0.5071, 0.4865, 0.4409], (0.2673, 0.2564, 0.2762)  # a list, as a checkpoint's JSON gives
    first = normalize(images, mean, std)
    misses = _stats_on.cache_info().misses
    with torch.inference_mode():
        normalize(images, mean, std)  # cached constants work inside and outside inference mode
    again = normalize(images, mean, std)
    assert _stats_on.cache_info().misses == misses  # no new host-to-device copy per batch
    assert torch.equal(first, again)
    assert torch.equal(first, normalize(images, torch.tensor(mean), torch.tensor(std)))


def test_resize_images():
    constant = torch.full((3, 3, 8, 8), 77, dtype=torch.uint8)
    assert resize_images(constant, 8) is constant
    assert torch.equal(resize_images(constant, 20), torch.full((3, 3, 20, 20), 77, dtype=torch.uint8))
    checker = ((torch.arange(64)[:, None] + torch.arange(64)) % 2 * 255).to(torch.uint8).expand(1, 3, 64, 64)
    shrunk = resize_images(checker, 8)
    assert shrunk.dtype == torch.uint8 and ((shrunk.int() - 127).abs() <= 1).all()  # antialiased


def test_channel_mean_std_matches_the_formula_across_chunks():
    images = random_images(1500, 32, 32)  # > 4M values: statistics are summed over several chunks
    values = images.double() / 255
    mean, std = channel_mean_std(images)
    assert torch.allclose(torch.tensor(mean, dtype=torch.float64), values.mean(dim=(0, 2, 3)), atol=1e-12)
    assert torch.allclose(torch.tensor(std, dtype=torch.float64),
                          values.std(dim=(0, 2, 3), unbiased=False), atol=1e-10)


def test_resident_images_batch_by_order_and_plain():
    images = random_images(10)
    labels = torch.arange(10) % 3
    source = ResidentImages(images, labels)
    plain = list(source.plain_batches(4))
    assert [len(y) for _, y in plain] == [4, 4, 2] and len(source) == 10
    assert torch.equal(torch.cat([x for x, _ in plain]), images)

    order = torch.tensor([9, 0, 5, 5, 2])
    generator = torch.Generator().manual_seed(0)
    (v1, y1, i1), (v2, y2, i2) = source.batches(order, 3, ("none",), generator)
    assert torch.equal(torch.cat([v1[0], v2[0]]), images[order]) and torch.equal(torch.cat([y1, y2]), labels[order])
    assert torch.equal(torch.cat([i1, i2]), order)


@pytest.mark.parametrize("device", DEVICES)
def test_a_dataset_split_moves_to_the_device_once(device):
    dataset = LTDataset("t", ["a", "b"], random_images(6), torch.tensor([0, 0, 0, 1, 1, 0]),
                        random_images(2, seed=1), torch.tensor([0, 1]), (0.5,) * 3, (0.25,) * 3)
    train, test = dataset.images("train").to(device), dataset.images("test").to(device)
    assert train.images.device.type == device and test.labels.device.type == device
    assert train.images.dtype == torch.uint8 and train.labels.dtype == torch.int64
    assert torch.equal(test.images.cpu(), dataset.test_images)
