"""Every registered loss against its formula written out by hand on a small batch.

The expected values are computed with plain Python (``math``, loops over samples and classes),
not with the modules' helpers, and compared with ``torch.testing.assert_close``.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from errors import UserError
from engine.batch import Batch
from engine.config import OptimConfig
from engine.methods import available_methods, build_method
from engine.methods.base import LossMethod, soft_cross_entropy
from engine.stages import Stage
from models import LTModel, ModelOutput, ModelSpec

COUNTS = [100, 30, 10, 2]
NUM_CLASSES = len(COUNTS)
# Six samples, four classes; every value stays inside [-1, 1] so the rows double as LDAM cosines.
LOGITS = [
    [0.9, -0.2, 0.1, -0.5],
    [0.3, 0.4, -0.6, 0.2],
    [-0.1, 0.8, 0.0, -0.3],
    [0.2, -0.4, 0.5, 0.7],
    [0.6, 0.1, -0.8, 0.05],
    [-0.7, 0.3, 0.2, 0.4],
]
LABELS = [0, 0, 1, 2, 1, 3]
FEATURES = [
    [1.0, 2.0, 2.0],
    [0.5, 0.0, 0.0],
    [3.0, 4.0, 0.0],
    [0.0, 0.0, 0.2],
    [1.0, 1.0, 1.0],
    [2.0, 0.0, 1.5],
]
WEIGHTS = [0.2, 0.5, 1.3, 2.0]


def tensors(logits=LOGITS, labels=LABELS, features=FEATURES):
    return torch.tensor(logits), torch.tensor(labels), torch.tensor(features)


LOSS_METHODS = sorted(name for name, cls in available_methods().items() if issubclass(cls, LossMethod))


def method(name: str, params=None, total_epochs: int = 200):
    return build_method(name, torch.tensor(COUNTS), params, total_epochs)


def log_softmax(row: list[float]) -> list[float]:
    top = max(row)
    log_total = top + math.log(sum(math.exp(v - top) for v in row))
    return [v - log_total for v in row]


def weighted_ce(rows: list[list[float]], labels: list[int], weights=None) -> float:
    """CE as PyTorch defines it: Σ w_y·(−log p_y) / Σ w_y (plain mean without weights)."""
    weights = weights or [1.0] * NUM_CLASSES
    numerator = sum(weights[y] * -log_softmax(row)[y] for row, y in zip(rows, labels))
    return numerator / sum(weights[y] for y in labels)


def shifted(rows: list[list[float]], shift: list[float]) -> list[list[float]]:
    return [[v + s for v, s in zip(row, shift)] for row in rows]


# --- registry and hyperparameters -------------------------------------------------------------

def test_every_method_is_registered_with_documented_hyperparameters():
    methods = available_methods()
    assert set(methods) == {"ce", "bsce", "focal", "logit_adjust", "ldam", "lade", "feabal", "gml", "mislas", "paco",
                            "ride", "ride_teacher", "ride_distill", "crt", "lws", "tau_norm", "wb"}
    for cls in methods.values():
        assert cls.title and cls.citation
        assert set(cls.param_help) == set(cls.defaults)


def test_unknown_hyperparameter_is_a_user_error():
    with pytest.raises(UserError, match="gamma"):
        method("ce", {"gamma": 2.0})


# --- each loss against its formula -------------------------------------------------------------

def test_ce_is_the_mean_negative_log_softmax_and_honours_class_weights():
    logits, labels, features = tensors()
    ce = method("ce")
    assert_close(ce.criterion(logits, labels, features), torch.tensor(weighted_ce(LOGITS, LABELS)))
    ce.class_weights = torch.tensor(WEIGHTS)
    assert_close(ce.criterion(logits, labels, features), torch.tensor(weighted_ce(LOGITS, LABELS, WEIGHTS)))


def test_bsce_adds_log_counts_to_the_logits():
    logits, labels, features = tensors()
    expected = weighted_ce(shifted(LOGITS, [math.log(n) for n in COUNTS]), LABELS)
    assert_close(method("bsce").criterion(logits, labels, features), torch.tensor(expected))


def test_logit_adjustment_adds_tau_log_prior():
    logits, labels, features = tensors()
    total = sum(COUNTS)
    for tau in (1.0, 0.5):
        expected = weighted_ce(shifted(LOGITS, [tau * math.log(n / total) for n in COUNTS]), LABELS)
        got = method("logit_adjust", {"tau": tau}).criterion(logits, labels, features)
        assert_close(got, torch.tensor(expected))
    # τ = 1 is balanced softmax: CE ignores the constant log Σn.
    assert_close(method("logit_adjust").criterion(logits, labels, features),
                 method("bsce").criterion(logits, labels, features))


@pytest.mark.parametrize("gamma", [1.0, 2.0])
def test_focal_scales_each_sample_by_one_minus_p_to_gamma(gamma):
    logits, labels, features = tensors()

    def expected(weights):
        total = 0.0
        for row, y in zip(LOGITS, LABELS):
            p = math.exp(log_softmax(row)[y])
            total += weights[y] * (1 - p) ** gamma * -math.log(p)
        return total / len(LABELS)

    focal = method("focal", {"gamma": gamma})
    assert_close(focal.criterion(logits, labels, features), torch.tensor(expected([1.0] * NUM_CLASSES)))
    focal.class_weights = torch.tensor(WEIGHTS)
    assert_close(focal.criterion(logits, labels, features), torch.tensor(expected(WEIGHTS)))


def test_focal_defaults_to_ldam_drw_gamma_one():
    assert method("focal").params["gamma"] == 1.0


def test_ldam_subtracts_the_class_margin_from_the_target_cosine_and_scales_by_s():
    cosines, labels, features = tensors()
    smallest = min(COUNTS)
    margins = [0.5 * (smallest / n) ** 0.25 for n in COUNTS]  # m_c ∝ n_c^(-1/4), largest margin 0.5
    rows = [[30 * (v - (margins[c] if c == y else 0.0)) for c, v in enumerate(row)]
            for row, y in zip(LOGITS, LABELS)]
    ldam = method("ldam")
    assert ldam.head == "cosine" and ldam.logit_scale == 30.0
    assert_close(ldam.criterion(cosines, labels, features), torch.tensor(weighted_ce(rows, LABELS)))
    ldam.class_weights = torch.tensor(WEIGHTS)
    assert_close(ldam.criterion(cosines, labels, features), torch.tensor(weighted_ce(rows, LABELS, WEIGHTS)))


def test_ldam_evaluates_with_scaled_cosines():
    output = ModelOutput(logits=torch.tensor(LOGITS), features=torch.tensor(FEATURES))
    assert_close(method("ldam").scores(output), 30 * torch.tensor(LOGITS))
    assert_close(method("ce").scores(output), torch.tensor(LOGITS))


def lade_expected(rows, labels, alpha, remine_lambda, weights=None) -> float:
    total = sum(COUNTS)
    prior = [n / total for n in COUNTS]
    prior_ce = weighted_ce(shifted(rows, [math.log(p) for p in prior]), labels, weights)
    batch = len(rows)
    regulariser = 0.0
    for c in range(NUM_CLASSES):
        own = [row[c] for row, y in zip(rows, labels) if y == c]
        first = sum(own) / len(own) if own else 0.0
        spread = math.log(sum(math.exp(row[c] - math.log(prior[c]) - math.log(NUM_CLASSES)) for row in rows))
        spread -= math.log(batch)
        bound = first - spread - remine_lambda * spread ** 2
        regulariser -= prior[c] * bound
    return prior_ce + alpha * regulariser


def test_lade_is_prior_ce_plus_alpha_times_the_regularised_dv_bound():
    logits, labels, features = tensors()
    lade = method("lade")
    assert lade.params == {"alpha": 0.1, "remine_lambda": 0.01}
    assert_close(lade.criterion(logits, labels, features), torch.tensor(lade_expected(LOGITS, LABELS, 0.1, 0.01)))
    other = method("lade", {"alpha": 0.5, "remine_lambda": 0.1})
    assert_close(other.criterion(logits, labels, features), torch.tensor(lade_expected(LOGITS, LABELS, 0.5, 0.1)))


def test_lade_counts_classes_absent_from_the_batch_like_the_official_code():
    without_class_3 = [0, 0, 1, 2, 1, 2]
    logits, labels, features = tensors(labels=without_class_3)
    expected = lade_expected(LOGITS, without_class_3, 0.1, 0.01)
    assert_close(method("lade").criterion(logits, labels, features), torch.tensor(expected))


def test_lade_weights_only_its_cross_entropy_term():
    logits, labels, features = tensors()
    lade = method("lade")
    lade.class_weights = torch.tensor(WEIGHTS)
    expected = lade_expected(LOGITS, LABELS, 0.1, 0.01, WEIGHTS)
    assert_close(lade.criterion(logits, labels, features), torch.tensor(expected))


def feabal_expected(curriculum: float, lam: float, weights=None) -> float:
    log_max, log_min = math.log(max(COUNTS)), math.log(min(COUNTS))
    strengths = [(log_max - math.log(n)) / (log_max - log_min) for n in COUNTS]
    rows = []
    for row, feature in zip(LOGITS, FEATURES):
        norm = math.sqrt(sum(v * v for v in feature))
        rows.append([v - curriculum * lam * s / (norm + 1e-12) for v, s in zip(row, strengths)])
    return weighted_ce(rows, LABELS, weights)


def test_feabal_lowers_every_logit_by_lambda_strength_over_feature_norm():
    logits, labels, features = tensors()
    feabal = method("feabal", total_epochs=200)
    feabal.on_epoch_start(95)  # the official (95 / (200 − 10))² = 0.25
    assert feabal.curriculum() == pytest.approx(0.25)
    assert_close(feabal.criterion(logits, labels, features), torch.tensor(feabal_expected(0.25, 60.0)))
    feabal.class_weights = torch.tensor(WEIGHTS)
    assert_close(feabal.criterion(logits, labels, features), torch.tensor(feabal_expected(0.25, 60.0, WEIGHTS)))


def test_feabal_curriculum_matches_the_official_quadratic_for_200_epochs():
    feabal = method("feabal", {"lambda": 10.0}, total_epochs=200)
    for epoch in (0, 50, 190, 199):
        feabal.on_epoch_start(epoch)
        assert feabal.curriculum() == pytest.approx((epoch / (200 - 10)) ** 2)
    logits, labels, features = tensors()
    feabal.on_epoch_start(0)  # no stimulus yet: plain cross-entropy
    assert_close(feabal.criterion(logits, labels, features), torch.tensor(weighted_ce(LOGITS, LABELS)))
    feabal.on_epoch_start(199)
    assert_close(feabal.criterion(logits, labels, features), torch.tensor(feabal_expected((199 / 190) ** 2, 10.0)))


def test_feabal_short_runs_ramp_over_the_same_fraction():
    feabal = method("feabal", total_epochs=10)
    feabal.on_epoch_start(5)
    assert feabal.curriculum() == pytest.approx((5 / 9.5) ** 2)


def gml_expected(rows, labels) -> float:
    adjusted_rows = [[math.exp(v) for v in log_softmax(row)] for row in shifted(rows, [math.log(n) for n in COUNTS])]
    per_class: dict[int, list[float]] = {}
    for probabilities, y in zip(adjusted_rows, labels):
        per_class.setdefault(y, []).append(min(max(probabilities[y], 1e-5), 1.0))
    terms = [-math.log(sum(values) / len(values)) for values in per_class.values()]
    return sum(terms) / len(terms)


def test_gml_is_the_mean_negative_log_of_per_class_recall_estimates():
    logits, labels, features = tensors()
    assert_close(method("gml").criterion(logits, labels, features), torch.tensor(gml_expected(LOGITS, LABELS)))


def test_gml_skips_classes_absent_from_the_batch():
    only_0_and_2 = [0, 2, 0, 2, 2, 0]
    logits, labels, features = tensors(labels=only_0_and_2)
    got = method("gml").criterion(logits, labels, features)
    # Two present classes, so the mean has two terms (an absent class would add −log 0 = ∞).
    assert torch.isfinite(got)
    assert_close(got, torch.tensor(gml_expected(LOGITS, only_0_and_2)))


def test_gml_clamps_tiny_probabilities_to_1e_5():
    rows = [row[:] for row in LOGITS]
    rows[5] = [30.0, 0.0, 0.0, -30.0]  # the only class-3 sample: p̃ ≈ 1e-28, clamped to 1e-5
    logits, labels, features = tensors(logits=rows)
    logits.requires_grad_(True)
    got = method("gml").criterion(logits, labels, features)
    assert_close(got, torch.tensor(gml_expected(rows, LABELS)))
    got.backward()
    assert (logits.grad[5] == 0).all()  # a clamped sample passes no gradient
    assert logits.grad[:5].abs().sum() > 0


def test_gml_ignores_class_weights():
    logits, labels, features = tensors()
    gml = method("gml")
    plain = gml.criterion(logits, labels, features)
    gml.class_weights = torch.tensor(WEIGHTS)
    assert_close(gml.criterion(logits, labels, features), plain)


def _gml_with_bincount_and_masks(method, logits, labels):
    """GML as computed before issue 14: bincount counts and boolean-mask indexing."""
    adjusted = torch.softmax(logits.float() + method.class_counts.log(), dim=1)
    p_true = adjusted.gather(1, labels[:, None]).squeeze(1).clamp(1e-5, 1.0)
    per_class_sum = p_true.new_zeros(logits.shape[1]).index_add(0, labels, p_true)
    per_class_count = torch.bincount(labels, minlength=logits.shape[1])
    present = per_class_count > 0
    return -(per_class_sum[present] / per_class_count[present]).log().mean()


def test_gml_without_data_dependent_shapes_equals_the_old_arithmetic_and_gradients():
    generator = torch.Generator().manual_seed(3)
    counts = torch.randint(1, 500, (50,), generator=generator)
    gml = build_method("gml", counts, None, 200)
    logits = (3 * torch.randn(64, 50, generator=generator)).requires_grad_(True)
    labels = torch.randint(0, 50, (64,), generator=generator)  # most of the 50 classes absent or repeated
    new = gml.criterion(logits, labels, torch.zeros(64, 3))
    (new_grad,) = torch.autograd.grad(new, logits)
    old = _gml_with_bincount_and_masks(gml, logits, labels)
    (old_grad,) = torch.autograd.grad(old, logits)
    assert_close(new, old, rtol=1e-6, atol=1e-7)
    assert_close(new_grad, old_grad, rtol=1e-5, atol=1e-8)


# --- every loss trains --------------------------------------------------------------------------

@pytest.mark.parametrize("name", LOSS_METHODS)
def test_gradients_flow_and_are_finite(name):
    logits = torch.tensor(LOGITS, requires_grad=True)
    features = torch.tensor(FEATURES, requires_grad=True)
    loss_method = method(name)
    loss_method.on_epoch_start(150)
    loss = loss_method.criterion(logits, torch.tensor(LABELS), features)
    loss.backward()
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    if name == "feabal":  # the stimulus depends on the feature norm
        assert torch.isfinite(features.grad).all() and features.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["ce", "bsce", "logit_adjust", "focal", "ldam", "feabal", "lade"])
def test_class_weights_change_the_loss(name):
    logits, labels, features = tensors()
    loss_method = method(name)
    plain = loss_method.criterion(logits, labels, features)
    loss_method.class_weights = torch.tensor(WEIGHTS)
    assert not torch.allclose(loss_method.criterion(logits, labels, features), plain)


class TinyModel(LTModel):
    """Features = the first three pixels; one linear head."""

    def __init__(self):
        super().__init__()
        self.spec = ModelSpec("tiny", "resnet20", NUM_CLASSES)
        self.linear = nn.Linear(3, NUM_CLASSES)

    def features(self, images):
        return images.flatten(1)[:, :3]

    def classify(self, features, heads=None):
        return ModelOutput((heads or self.heads())["linear"](features), features)

    def heads(self):
        return {"linear": self.linear}


def test_a_loss_method_runs_the_model_features_through_its_head():
    model = TinyModel()
    images = torch.tensor(FEATURES).reshape(6, 3, 1, 1)
    feabal = method("feabal")
    feabal.on_epoch_start(100)  # a non-zero stimulus, so the features matter
    stage = Stage("train", OptimConfig(epochs=1))
    loss, logits = feabal.training_step(model, Batch([images], torch.tensor(LABELS)), stage)
    assert_close(logits, model(images).logits)
    assert_close(loss, feabal.criterion(logits, torch.tensor(LABELS), torch.tensor(FEATURES)))
    cached, _ = feabal.training_step(model, Batch([], torch.tensor(LABELS), features=torch.tensor(FEATURES)), stage)
    assert_close(cached, loss)


def test_mixup_targets_give_the_two_weighted_cross_entropies():
    """Soft targets λ·onehot(y) + (1 − λ)·onehot(y[perm]) give λ·CE(y) + (1 − λ)·CE(y[perm])."""
    from data.augment import mixup

    images = torch.randn(6, 3, 2, 2)
    labels = torch.tensor(LABELS)
    mixed, targets = mixup(images, labels, NUM_CLASSES, 0.3, torch.Generator().manual_seed(1))
    permutation = torch.randperm(6, generator=torch.Generator().manual_seed(1))
    assert_close(mixed, 0.3 * images + 0.7 * images[permutation])
    logits = torch.tensor(LOGITS)
    expected = [0.3 * -log_softmax(row)[y] + 0.7 * -log_softmax(row)[y2]
                for row, y, y2 in zip(LOGITS, LABELS, labels[permutation].tolist())]
    assert_close(soft_cross_entropy(logits, targets), torch.tensor(sum(expected) / 6, dtype=torch.float32))


@pytest.mark.parametrize("name", LOSS_METHODS)
def test_mixed_precision_logits_give_a_float32_loss_close_to_full_precision(name):
    logits, labels, features = tensors()
    loss_method = method(name)
    loss_method.on_epoch_start(100)
    full = loss_method.criterion(logits, labels, features)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        half = loss_method.criterion(logits.bfloat16(), labels, features.bfloat16())
    assert half.dtype == torch.float32
    assert_close(half, full, rtol=2e-2, atol=2e-2)


def test_every_hyperparameter_has_a_name_in_words_and_sections_name_known_ones():
    for name, cls in available_methods().items():
        assert set(cls.param_labels) == set(cls.defaults), name
        in_sections = [key for keys in cls.param_sections.values() for key in keys]
        assert len(in_sections) == len(set(in_sections)) and set(in_sections) <= set(cls.defaults), name
