"""Mixed precision: fp32 layers inside bf16 autocast, the measured policy, its cache, and a bf16 run whose
checkpoint predicts in the precision it was evaluated in. No timing is asserted."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from engine import precision_probe
from engine.config import ConfigError
from engine.evaluate_checkpoint import evaluate_checkpoint
from engine.fold import folded_copy
from engine.precision import KeepFp32, Precision, autocast, has_bf16, resolve
from engine.precision_probe import ConvShape, KernelTimes, busy_neighbours, conv_shapes, kernel_times
from engine.trainer import train
from models import ModelSpec, create_model
from tests.test_trainer import tiny_config, tiny_dataset

STRIDE_2 = ("layer2.0.conv1", "layer3.0.conv1")


def resnet20(classes: int = 4) -> nn.Module:
    torch.manual_seed(0)
    return create_model(ModelSpec("cifar_resnet", "resnet20", classes))


def stride_2_slow(shapes, threads):
    """A machine where bf16 is faster except for stride-2 convolutions (as measured on the development CPU)."""
    return {s: KernelTimes(fp32=1.0, bf16=5.0 if s.stride == (2, 2) else 0.5) for s in shapes}


def output_dtypes(model: nn.Module, x: torch.Tensor) -> dict[str, torch.dtype]:
    dtypes = {}
    hooks = [module.register_forward_hook(lambda m, i, out, name=name: dtypes.__setitem__(name, out.dtype))
             for name, module in model.named_modules() if isinstance(module, (nn.Conv2d, nn.Linear))]
    with autocast(model):
        dtypes["logits"] = model(x).logits.dtype
    for hook in hooks:
        hook.remove()
    return dtypes


def test_layers_kept_in_fp32_compute_in_fp32_inside_bf16_autocast_and_the_state_dict_is_unchanged():
    model = resnet20().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    Precision("bf16", ("linear", *STRIDE_2)).apply(model)
    assert model.state_dict().keys() == before.keys()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    dtypes = output_dtypes(model, torch.randn(2, 3, 16, 16))
    assert [dtypes[name] for name in ("linear", *STRIDE_2, "logits")] == [torch.float32] * 4
    assert dtypes["conv1"] == dtypes["layer2.0.conv2"] == torch.bfloat16
    assert isinstance(model.layer2[0].conv1, nn.Conv2d) and isinstance(model.layer2[0].conv1, KeepFp32)
    assert Precision.of(model) == Precision("bf16", ("layer2.0.conv1", "layer3.0.conv1", "linear"))
    Precision().apply(model)  # back to fp32: no module kept, no autocast
    assert Precision.of(model) == Precision() and not any(isinstance(m, KeepFp32) for m in model.modules())
    assert set(output_dtypes(model, torch.randn(2, 3, 16, 16)).values()) == {torch.float32}
    with pytest.raises(ConfigError, match="no module 'layer9.conv1'"):
        Precision("bf16", ("layer9.conv1",)).apply(model)


def test_the_bn_folded_evaluation_copy_keeps_the_policy_and_agrees_with_the_model():
    model = resnet20()
    model.train()
    model(torch.randn(16, 3, 16, 16))  # running statistics that are not the identity
    Precision("bf16", ("linear", *STRIDE_2)).apply(model.eval())
    folded = folded_copy(model)
    assert isinstance(folded.layer3[0].conv1, KeepFp32) and isinstance(folded.layer3[0].bn1, nn.Identity)
    assert folded.compute_dtype == torch.bfloat16
    x = torch.randn(8, 3, 16, 16)
    with torch.inference_mode(), autocast(model):
        plain, fast = model(x).logits, folded(x).logits
    assert fast.dtype == torch.float32
    assert torch.allclose(plain, fast, atol=0.1 * plain.abs().max().item())  # bf16 rounding, not a different net


def test_auto_keeps_the_slow_convolutions_and_the_heads_in_fp32_and_the_measurement_is_cached(monkeypatch, workspace):
    calls = []
    monkeypatch.setattr(precision_probe, "measure", lambda shapes, threads: calls.append(len(shapes))
                        or stride_2_slow(shapes, threads))
    model, cpu = resnet20(), torch.device("cpu")
    bf16_here = has_bf16(cpu)
    chosen = resolve("auto", None, model, cpu, batch_size=16, image_size=16)
    assert chosen == (Precision("bf16", ("linear", *STRIDE_2)) if bf16_here else Precision())
    if bf16_here:
        assert calls == [6]  # resnet20: the first, 3 stages, 2 stride-2 convolutions
        cache = json.loads((workspace / "cache" / precision_probe.CACHE_FILE).read_text())
        (machine, entries), = cache.items()
        assert f"{torch.get_num_threads()} threads" in machine and len(entries) == 6
        assert resolve("auto", None, resnet20(), cpu, 16, 16) == chosen and calls == [6]  # cached: not measured again
        assert resolve("bf16", ["linear"], resnet20(), cpu, 16, 16) == Precision("bf16", ("linear",))
    assert resolve("fp32", None, resnet20(), cpu, 16, 16) == Precision()
    assert not has_bf16(torch.device("meta"))


def test_auto_stays_fp32_when_bf16_does_not_pay_and_bf16_can_still_be_asked_for(monkeypatch):
    monkeypatch.setattr(precision_probe, "measure",
                        lambda shapes, threads: {s: KernelTimes(fp32=1.0, bf16=0.95) for s in shapes})
    cpu = torch.device("cpu")
    if not has_bf16(cpu):
        pytest.skip("this CPU has no bf16 instructions: auto is fp32 without measuring")
    messages = []
    assert resolve("auto", None, resnet20(), cpu, 16, 16, report=messages.append) == Precision()
    assert "below the 1.11x that pays" in messages[-1]
    every_conv = Precision("bf16", ("linear",))
    assert resolve("bf16", None, resnet20(), cpu, 16, 16) == every_conv  # bf16 was faster for every shape


def test_the_shapes_are_what_each_convolution_sees_and_a_damaged_cache_is_measured_again(tmp_path):
    shapes = conv_shapes(resnet20(), image_size=16, batch_size=32, device=torch.device("cpu"))
    first, stride_2 = shapes["conv1"], shapes["layer2.0.conv1"]
    assert (first.in_channels, first.height, first.batch, first.input_grad) == (3, 16, 32, False)
    assert (stride_2.in_channels, stride_2.out_channels, stride_2.stride, stride_2.height) == (16, 32, (2, 2), 16)
    assert stride_2.input_grad and stride_2.layer().stride == (2, 2)
    cache = tmp_path / "kernels.json"
    cache.write_text("{not json")
    times = kernel_times([first], threads=1, cache=cache)
    assert times == {first: KernelTimes(1.0, 2.0)}  # the conftest's machine
    assert json.loads(cache.read_text())  # rewritten whole


def test_the_real_measurement_runs_beside_busy_neighbours_that_are_gone_afterwards():
    import os

    with busy_neighbours(2) as pids:
        assert len(pids) == 2
        for pid in pids:
            os.kill(pid, 0)  # running
        times = precision_probe._time_shape(ConvShape(4, 4, (3, 3), (2, 2), "(1, 1)", (1, 1), 1, False, 8, 8, 2, True))
    assert times.fp32 > 0 and times.bf16 > 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_bf16_run_records_its_policy_and_its_checkpoint_predicts_in_it(monkeypatch, tmp_path):
    monkeypatch.setattr(precision_probe, "measure", stride_2_slow)
    config = tiny_config(tmp_path)
    config.precision = "bf16"
    result = train(config, dataset=tiny_dataset(16))
    saved = json.loads((result.run_dir / "config.json").read_text())["run"]
    assert (saved["precision"], saved["fp32_layers"]) == ("bf16", ["linear", *STRIDE_2])
    assert saved["threads"] == torch.get_num_threads() >= 1
    card = (result.run_dir / "README.md").read_text()
    assert f"{saved['threads']} CPU thread(s), bf16 mixed precision (kept in fp32: linear, layer2.0.conv1" in card
    checkpoint = result.run_dir / "checkpoints" / "last.pt"
    assert torch.load(checkpoint, weights_only=True)["meta"]["precision"] == {"name": "bf16",
                                                                          "fp32_layers": ["linear", *STRIDE_2]}
    if has_bf16(torch.device("cpu")):  # predicted in bf16, as the run evaluated it: the same numbers
        from engine.config import DataConfig

        monkeypatch.setattr("engine.evaluate_checkpoint.load_dataset", lambda data: tiny_dataset(16))
        metrics, _ = evaluate_checkpoint(checkpoint, DataConfig(dataset="demo"), device="cpu")
        assert metrics.top1 == result.final.top1 and metrics.loss == pytest.approx(result.final.loss, abs=1e-6)
