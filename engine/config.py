"""The run configuration: one schema for training, the GML plug-in and evaluation, each field
defined once with its knob (label, help, flag, choices, range; ``engine.knobs``).

Defaults follow the CIFAR-LT protocol of LDAM-DRW (Cao et al., NeurIPS 2019,
github.com/kaidic/LDAM-DRW): ResNet-32, SGD momentum 0.9, weight decay 2e-4, lr 0.1,
batch 128, 200 epochs, 5 linear warm-up epochs, lr ×0.01 after epoch 160 and ×0.0001
after epoch 180. The decay points are stored as fractions of the run (0.8, 0.9) so that a
shorter run keeps the same shape; for 200 epochs they are exactly epochs 160 and 180.

"Freeze features" (``model.freeze``) is the GML plug-in of "No One Left Behind": its own
settings are the ``plugin`` section, its optimiser defaults the "plugin" preset
(resources/presets/30-plugin.toml). Choice sets owned by a registry (datasets, methods,
architectures, train rules, samplers, devices) are named by import path, never imported here.
docs/configuration.md lists every field (a test keeps it current).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.knobs import ConfigError, JsonConfig, Registry, check_types, first, knob, knob_problems, late

RECALL_FLOOR = 1e-3  # the paper's code floors each class's recall at this before HM / GM / LR (engine.metrics)
MAX_IMBALANCE = 10_000  # beyond this ratio classes are left with no image at all
SEED_RANGE = (0, 2**32 - 1)


def normalise_imbalance(value: float) -> float:
    """Return the imbalance *ratio* n_max / n_min (≥ 1) from either convention.

    LDAM-DRW writes the imbalance factor as n_min / n_max (0.01); many papers write the
    ratio (100). Both mean the same long tail, so 0.01 and 100 both return 100.0.
    """
    if not math.isfinite(value) or value <= 0:
        raise ConfigError("imbalance_ratio", f"must be a positive number such as 100 or 0.01, got {value}")
    return 1.0 / value if value < 1 else float(value)


def device_problem(value: str) -> str | None:
    """auto, cpu, cuda or cuda:N"""
    if value in ("auto", "cpu", "cuda") or value.startswith("cuda:") and value[5:].isdigit():
        return None
    return f"use auto, cpu, cuda or cuda:N, not {value!r}"


def image_size_problem(value: int) -> str | None:
    """not 1 to 7 (0: the dataset's own side)"""
    return None if value == 0 or value >= 8 else f"{value} is too small: 0 (the dataset's own side) or at least 8"


def missing_file(path: str) -> str | None:
    """empty, or an existing file"""
    return f"no checkpoint file at {path}" if path and not Path(path).is_file() else None


class Section:
    """A part of the run config: its knobs' rules, and the checks across its fields."""

    def problems(self) -> list[ConfigError]:
        """Every field that must change, each named."""
        return knob_problems(self)

    def validate(self):
        """Raise the first problem (a ConfigError naming the field); returns self."""
        first(self.problems())
        return self


@dataclass
class DataConfig(Section):
    dataset: str = field(default="cifar100", metadata=knob(
        "Dataset", "Which images to use. The demo set is bundled handwritten digits and needs no download; "
        "CIFAR is downloaded once into the data path (or read from there). ImageNet-LT, Places-LT, iNaturalist "
        "2018, image lists and image trees are streamed from disk by decoding workers.",
        choices=Registry("data:dataset_titles")))
    root: str = field(default="", metadata=knob(
        "Data path", "Folder that holds the dataset: CIFAR's python pickles, your image folder with one "
        "sub-folder per class, or the root the large benchmarks' lists name their images from "
        "(ImageNet_LT_*.txt, Places_LT_*.txt, iNaturalist18_*.txt or train2018.json). Empty: the workspace's "
        "datasets/ folder (datasets/<name> for the streamed ones).", flag="--data-root", widget="folder",
        placeholder="workspace datasets/ folder", local=True))
    # Each dataset kind has its own default cut (data.default_imbalance_type, from DATASET_KINDS).
    imbalance_type: str = field(default="exp", metadata=knob(
        "Imbalance type", "How the balanced training set is cut into a long-tailed one: exp lowers the count "
        "exponentially from class to class (LDAM-DRW); step keeps half the classes large and cuts the other half "
        "to n_max/ratio; none keeps the set as it is. A command line that names only the dataset gets its own "
        "type: exp for CIFAR and the demo, none for every other dataset (the large benchmarks' official lists are "
        "long-tailed already).",
        choices=Registry("data:IMBALANCE_TYPES")))
    imbalance_ratio: float = field(default=100.0, metadata=knob(
        "Imbalance", "How long the tail is. Type the ratio n_max/n_min (100) or the seed's imbalance factor "
        "n_min/n_max (0.01): both mean the largest class has 100× the images of the smallest.",
        flag="--imbalance", widget="imbalance"))
    image_size: int = field(default=0, metadata=knob(
        "Image size", "Side of the square images the model sees, in pixels. 0: the dataset's own (32 for CIFAR, "
        "the demo and folders; 224 for the streamed datasets, resized to 256 and centre-cropped for evaluation).",
        range=(0, 512), check=image_size_problem))
    holdout_fraction: float = field(default=0.2, metadata=knob(
        "Held-out share", "Test share of an image folder without a test/ sub-folder.", range=(0.05, 0.9)))
    augment: bool = field(default=True, metadata=knob(
        "Augment", "Random crop (4-pixel padding) and horizontal flip of the training images; RandomResizedCrop "
        "and flip when streamed."))
    color_jitter: float = field(default=0.0, metadata=knob(
        "Colour jitter", "Streamed datasets: ColorJitter(j, j, j, 0) after the crop (0.4 in the recipes that use "
        "it; 0: none).", range=(0.0, 1.0)))
    loader_workers: int = field(default=4, metadata=knob(
        "Loader workers", "Streamed datasets: decoding processes, at most the CPUs this process may use (0: decode "
        "in the training process).", range=(0, 64)))
    # LDAM-DRW, MiSLAS, RIDE and PaCo all cut with np.random.seed(0) inside the dataset, so the
    # default 0 trains on the published subset whatever the training seed.
    cut_seed: int = field(default=0, metadata=knob(
        "Cut seed", "Seed of the long-tailed cut (and of an image folder's held-out split): which images of each "
        "class are kept. 0 keeps the subset LDAM-DRW, MiSLAS, RIDE and PaCo train on, whatever the training "
        "seed.", range=SEED_RANGE))

    def problems(self) -> list[ConfigError]:
        found = knob_problems(self)
        try:
            if normalise_imbalance(float(self.imbalance_ratio)) > MAX_IMBALANCE:
                found.append(ConfigError("imbalance_ratio", f"ratios above {MAX_IMBALANCE} leave classes with no "
                                                            "image at all"))
        except ConfigError as error:
            found.append(error)
        if self.dataset == "folder" and not self.root:
            found.append(ConfigError("root", "choose the image folder to train on"))
        checked = not any(error.field_name in ("dataset", "color_jitter") for error in found)
        if checked and self.color_jitter and not late("data:dataset_kind")(self.dataset).streamed:
            found.append(ConfigError("color_jitter", "colour jitter is a recipe of the streamed datasets, not of "
                                                     f"{self.dataset}"))
        return found

    def validate(self) -> DataConfig:
        """Raise the first problem, then :meth:`resolve`. Returns self."""
        super().validate()
        self.resolve()
        return self

    def resolve(self) -> None:
        """The imbalance as a ratio, image size 0 as the dataset's own side (a valid section only)."""
        self.imbalance_ratio = normalise_imbalance(float(self.imbalance_ratio))
        self.image_size = late("data:resolved_image_size")(self.dataset, self.image_size)


@dataclass
class ModelConfig(Section):
    arch: str = field(default="resnet32", metadata=knob(
        "Architecture", "The network: the CIFAR ResNets (ResNet-32 is the CIFAR paper setting) or torchvision's "
        "ImageNet ResNets for the large benchmarks. With a pretrained model it must match the checkpoint; the "
        "plug-in reads it from the checkpoint when the file says.", choices=Registry("models:arch_titles")))
    pretrained: str = field(default="", metadata=knob(
        "Pretrained model", "Checkpoint to start from: files in the pretrained folders, or any file via “…”. "
        "Foreign state dicts (DataParallel “module.”, “fc.”) are remapped automatically; a torchvision ImageNet "
        "weights file (e.g. resnet152-394f9c45.pth) initialises the trunk of an ImageNet architecture.",
        widget="checkpoint",
        check=missing_file))
    freeze: str = field(default="none", metadata=knob(
        "Pretrained", "Freeze features: keep a pretrained backbone and re-train only its classifier with the loss "
        "(the paper's GML plug-in, with the plug-in settings). Train the last block: only the trunk's last residual "
        "block, its BatchNorm layers and the heads train (PaCo's Places-LT fine-tuning of an ImageNet ResNet). "
        "Freeze all: train nothing, evaluate the pretrained model.",
        choices={"none": "None: train every layer",
                 "features": "Freeze features: re-train the classifier (plug-in)",
                 "last_block": "Train the last block, BatchNorm and heads",
                 "all": "Freeze all parameters: evaluate only"}))

    def problems(self) -> list[ConfigError]:
        found = knob_problems(self)
        if self.freeze != "none" and not self.pretrained:
            found.append(ConfigError("pretrained", "freezing needs a pretrained checkpoint to start from"))
        return found


@dataclass
class MethodConfig(Section):
    loss: str = field(default="ce", metadata=knob(
        "Loss type", "The method: its loss, model and stages (for the plug-in: the loss that re-trains the "
        "classifier; GML is the paper's).", choices=Registry("engine.methods:method_titles"),
        plugin_choices=Registry("engine.methods:repair_titles")))
    params: dict[str, float] = field(default_factory=dict, metadata=knob(
        "Hyperparameters", "The method's hyperparameters, preset to its paper's values; only values that differ "
        "from the defaults are stored.", flag="--param", widget="params"))
    stages: list[str] = field(default_factory=list, metadata=knob(
        "Stages", "Run only these stages of the method (e.g. mislas: classifier, ride: router, on a pretrained "
        "checkpoint); empty: all."))
    train_rule: str = field(default="none", metadata=knob(
        "Train rule", "How the long tail is countered while training: Resample draws classes equally often, "
        "Reweight weights the loss by the effective number of samples, DRW switches that weighting on at the first "
        "learning-rate decay.", choices=Registry("engine.rules:RULES")))
    reweight_beta: float = field(default=0.9999, metadata=knob(
        "Reweight β", "Effective-number β of Reweight and DRW.", range=(0.0, 0.999999)))
    teacher: str = field(default="", metadata=knob(
        "Teacher model", "Distillation only (RIDE + distillation): the trained teacher whose expert mean the "
        "student learns from, e.g. a “RIDE teacher (6 experts)” run's checkpoint.", widget="teacher",
        check=missing_file))
    drw_epoch: int = field(default=0, metadata=knob(
        "DRW epoch", "DRW's class weights apply from this 1-based epoch on (0: the first learning-rate decay, "
        "LDAM-DRW's rule; RIDE's large-benchmark recipes set it).", range=(0, 10_000)))

    def problems(self) -> list[ConfigError]:
        found = knob_problems(self)
        if not any(error.field_name == "loss" for error in found):
            method = late("engine.methods:method_class")(self.loss)
            found += [ConfigError(name, message) for name, message in method.param_problems(self.params)]
        return found


@dataclass
class OptimConfig(Section):
    epochs: int = field(default=200, metadata=knob(
        "Epochs", "Passes over the training set (for the plug-in: classifier re-training epochs; 0 there "
        "evaluates the old model only).", range=(0, 10_000)))
    batch_size: int = field(default=128, metadata=knob(
        "Batch size", "Images per optimisation step: the global batch, shared among the processes of a run on "
        "several GPUs (its learning rate is that of the global batch; docs/distributed.md).", range=(1, 65_536)))
    lr: float = field(default=0.1, metadata=knob(
        "Learning rate", "The learning rate at the end of warm-up.", range=(1e-7, 10.0)))
    momentum: float = field(default=0.9, metadata=knob(
        "Momentum", "SGD momentum: the share of the previous step carried into the next.", range=(0.0, 0.999)))
    weight_decay: float = field(default=2e-4, metadata=knob(
        "Weight decay", "L2 penalty on the weights.", range=(0.0, 0.1)))
    nesterov: bool = field(default=False, metadata=knob(
        "Nesterov", "Nesterov momentum (RIDE's recipe uses it; LDAM-DRW's does not)."))
    optimizer: str = field(default="sgd", metadata=knob(
        "Optimiser", "SGD, Adam (which ignores momentum and Nesterov), or SAM: sharpness-aware minimisation over SGD, "
        "two forward/backward passes per step (the second at the weights moved by ρ along the gradient).",
        choices={"sgd": "SGD", "adam": "Adam", "sam": "SAM (sharpness-aware, over SGD)"}))
    sam_rho: float = field(default=0.05, metadata=knob(
        "SAM ρ", "SAM's neighbourhood radius (davda/sam's default 0.05; Saddle-LongTail uses 0.8 for LDAM-DRW on "
        "CIFAR-LT). Only with the SAM optimiser.", range=(0.0, 10.0)))
    sam_adaptive: bool = field(default=False, metadata=knob(
        "Adaptive SAM", "ASAM: the neighbourhood scales with each weight's size (use a larger ρ, e.g. 2.0). Only "
        "with the SAM optimiser."))
    schedule: str = field(default="step", metadata=knob(
        "LR schedule", "How the learning rate falls over the run after warm-up: step multiplies it by each decay "
        "factor at its decay point (LDAM-DRW: ×0.01 after epoch 160 and ×0.0001 after 180 of 200); cosine falls "
        "smoothly to zero; constant keeps it.",
        choices={"step": "Step: decays at fixed fractions of the run", "cosine": "Cosine to zero",
                 "constant": "Constant"}))
    warmup_epochs: int = field(default=5, metadata=knob(
        "Warm-up epochs", "Epochs of linear learning-rate warm-up at the start; fewer than the epochs.",
        range=(0, 10_000)))
    decay_at: tuple[float, ...] = field(default=(0.8, 0.9), metadata=knob(
        "Decay points", "Step decays as fractions of the run (0.8 0.9 = epochs 160 and 180 of 200)."))
    decay_factors: tuple[float, ...] = field(default=(0.01, 0.0001), metadata=knob(
        "Decay factors", "Learning-rate factor after each decay point (LDAM-DRW 0.01 0.0001; MiSLAS 0.1 0.01)."))

    def problems(self) -> list[ConfigError]:
        found = knob_problems(self)
        if self.nesterov and self.momentum <= 0:
            found.append(ConfigError("nesterov", "Nesterov momentum needs a momentum above 0"))
        if 0 < self.epochs <= self.warmup_epochs:
            found.append(ConfigError("warmup_epochs", f"must be fewer than the {self.epochs} epochs, or the learning "
                                                      "rate never reaches its full value (0: no warm-up)"))
        if len(self.decay_at) != len(self.decay_factors):
            found.append(ConfigError("decay_at", "needs one decay factor per decay point"))
        elif any(not 0 < x < 1 for x in self.decay_at) or list(self.decay_at) != sorted(self.decay_at):
            found.append(ConfigError("decay_at", "decay points are increasing fractions of the run, e.g. 0.8, 0.9"))
        return found

    def decay_epochs(self) -> list[int]:
        """1-based epochs after which each decay applies (160 and 180 for a 200-epoch run)."""
        return [int(round(f * self.epochs)) for f in self.decay_at]


@dataclass
class PluginConfig(Section):
    """What only "freeze features" (the GML plug-in) uses beside the run's data, loss and optimiser."""

    sampler: str = field(default="instance", metadata=knob(
        "Plug-in sampler", "How the re-training draws images: instance (every image once per epoch; GML balances "
        "classes itself), class_balanced, square_root or class_aware.", choices=Registry("data.samplers:SAMPLERS")))
    init: str = field(default="old", metadata=knob(
        "New classifier", "The re-trained classifier starts as a copy of the old one, or fresh.",
        choices={"old": "Copy of the old classifier", "fresh": "Fresh initialisation"}))
    ensemble: bool = field(default=True, metadata=knob(
        "Ensemble", "Plug-in: also predict with ½·[softmax(z_new/t1) + softmax(z_old/t2)], averaging the re-trained "
        "and the original classifier."))
    t1: float = field(default=1.0, metadata=knob(
        "Temperature t1", "Plug-in ensemble: temperature of the new (re-trained) classifier. Higher values flatten "
        "its probabilities.", range=(1e-3, 1e3)))
    t2: float = field(default=1.0, metadata=knob(
        "Temperature t2", "Plug-in ensemble: temperature of the old (original) classifier.", range=(1e-3, 1e3)))
    search_temperatures: bool = field(default=False, metadata=knob(
        "Search temperatures", "Choose t1 and t2 on a held-out split of the training data (maximising HM)."))
    validation_fraction: float = field(default=0.1, metadata=knob(
        "Held-out share (search)", "The share of each class held out for the temperature search.",
        range=(0.01, 0.5)))
    cache_features: bool = field(default=True, metadata=knob(
        "Cache features", "Run the frozen backbone once and re-train on cached features (off: a full forward pass "
        "per batch).", flag="--cache"))
    feature_passes: int = field(default=4, metadata=knob(
        "Feature passes", "Augmented passes cached when augmentation is on.", range=(1, 100)))
    max_norm: float = field(default=0.0, metadata=knob(
        "MaxNorm threshold", "Weight balancing's MaxNorm on the re-trained classifier: each class's weight norm is "
        "capped at min + threshold·(max − min) of the class norms it starts from (the official rule: 0.1 is relative, "
        "not an absolute norm). 0: off.", range=(0.0, 1.0)))
    max_norm_every: str = field(default="step", metadata=knob(
        "MaxNorm after", "When MaxNorm projects: after every optimiser step (the paper; the author's intent) or after "
        "each epoch (the official code).", choices={"step": "every step (paper)", "epoch": "every epoch (official code)"}))


# config.json of runs written before issues 21 and 23: the old field → (its successor, the value)
LEGACY_FIELDS = {"workers": lambda value: ("threads", value),
                 "amp": lambda value: ("precision", "auto" if value else "fp32")}


@dataclass
class RunConfig(JsonConfig):
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    plugin: PluginConfig = field(default_factory=PluginConfig)
    seed: int = field(default=0, metadata=knob(
        "Seed", "Training seed: initialisation, batch order and augmentation follow it, so a run can be repeated. "
        "The long-tailed subset follows the cut seed instead.", range=SEED_RANGE))
    device: str = field(default="auto", metadata=knob(
        "Device", "Where to train: auto uses the GPU when there is one; cpu, cuda or cuda:N.", local=True,
        suggested=Registry("engine.devices:device_choices"), check=device_problem))
    threads: int = field(default=0, metadata=knob(
        "CPU threads", "Threads for the engine on the CPU. 0: one per CPU (or OMP_NUM_THREADS when exported), fixed, "
        "so a run's numbers never depend on how busy the machine is; config.json records the count used "
        "(engine/cpu_policy.py).", range=(0, 1024), local=True))
    nproc: int = field(default=1, metadata=knob(
        "GPUs", "Processes this run trains with on this machine, one per GPU: data parallel (DistributedDataParallel "
        "through torchrun; NCCL on GPUs, gloo on the CPU). The batch size stays the global batch, shared among "
        "them, so the learning rate keeps its value. 1: this process alone. Under a torchrun you start yourself "
        "(several machines), torchrun's process count applies instead. docs/distributed.md.",
        range=(1, 64), local=True))
    sync_batchnorm: bool = field(default=False, metadata=knob(
        "SyncBatchNorm", "With several GPUs: BatchNorm statistics over the global batch instead of each GPU's "
        "share (GPUs only; the official code of every method here trains without it)."))
    collective_timeout: float = field(default=600.0, metadata=knob(
        "Collective timeout", "With several processes: seconds one waits for the others in a collective (the "
        "gradient all-reduce, a gather) before the run ends with an error. A process that dies ends the run at "
        "once; this bounds one that hangs.", range=(10.0, 86_400.0), local=True))
    experiment: str = field(default="", metadata=knob(
        "Experiment name", "A label for the run; the run folder is named <date>-<time>-<name>.", local=True,
        placeholder="e.g. cifar100-lt-gml"))
    runs_dir: str = field(default="", metadata=knob(
        "Log folder", "Where run folders are written (config, metrics.csv, checkpoints, run card). Empty: the "
        "workspace's runs/ folder.", widget="folder", placeholder="workspace runs/ folder", local=True))
    save_model: bool = field(default=True, metadata=knob(
        "Save model", "Write checkpoints/last.pt every epoch and best.pt when the chosen metric improves (needed "
        "for Resume).", flag="--save"))
    best_metric: str = field(default="test_hm", metadata=knob(
        "Best checkpoint by", "Which test metric picks checkpoints/best.pt.",
        choices={"test_hm": "HM", "test_gm": "GM", "test_lr": "Lowest recall", "test_top1": "Top-1 accuracy",
                 "test_mean_recall": "Mean recall"}))
    precision: str = field(default="auto", metadata=knob(
        "Precision", "auto: bf16 mixed precision where this machine measured it faster (once, then remembered), "
        "with the classifier and every convolution that is slow in bf16 here kept in fp32; else fp32. config.json "
        "records the precision used (docs/precision.md).",
        choices={"auto": "Automatic (bf16 where measured faster)", "fp32": "fp32", "bf16": "bf16 mixed precision"}))
    fp32_layers: list[str] | None = field(default=None, metadata=knob(
        "fp32 layers", "Under bf16, the modules kept in fp32 (None: the heads and the convolutions this machine "
        "measured slow in bf16). Recorded in config.json; set it there to repeat a run's choice elsewhere.",
        flag=""))
    compile: bool = field(default=False, metadata=knob(
        "Compile", "torch.compile the training step (falls back if it fails; no gain measured on CPU, "
        "engine/speed.py)."))
    recall_floor: float = field(default=RECALL_FLOOR, metadata=knob(
        "HM/GM/LR floor", "How HM, GM and LR treat a class at zero recall. The paper's code floors every class's "
        "recall at 0.1 % first, so the means still say how far behind the others are; 0 leaves them unfloored, "
        "and one zero-recall class makes HM and GM 0. The count of zero-recall classes is shown either way.",
        range=(0.0, 0.1), suggested={RECALL_FLOOR: "0.1 % (the paper's code)", 0.0: "none (0 at any zero recall)"}))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        """As ``JsonConfig.from_dict``; a config.json from before issues 21 and 23 names the thread
        count ``workers`` and the precision ``amp``."""
        if isinstance(raw, Mapping) and any(key in raw for key in LEGACY_FIELDS):
            raw = dict(raw)
            for key, successor in LEGACY_FIELDS.items():
                if key in raw:
                    name, value = successor(raw.pop(key))
                    raw.setdefault(name, value)
        return super().from_dict(raw)

    @property
    def plugin_run(self) -> bool:
        """"Freeze features": the GML plug-in re-trains the pretrained model's classifier."""
        return self.model.freeze == "features"

    def problems(self) -> list[ConfigError]:
        """Every field that must change, each named (type errors first: the rest needs the types)."""
        check_types(self)
        found = [*self.data.problems(), *self.model.problems(), *self.method.problems(), *self.optim.problems(),
                 *self.plugin.problems(), *knob_problems(self)]
        method = None if any(error.field_name == "loss" for error in found) else \
            late("engine.methods:method_class")(self.method.loss)
        if method is not None:  # the method's declarations (Method capabilities)
            capability_error = late("engine.methods:capability_error")
            for name, cannot in (("loss", capability_error(method, repair=self.plugin_run, alone=not self.plugin_run)),
                                 ("optimizer", capability_error(method, twice=self.optim.optimizer == "sam"))):
                if cannot:
                    found.append(ConfigError(name, cannot))
        if self.nproc > 1 and self.device.startswith("cuda:"):
            found.append(ConfigError("device", f"{self.device} is one GPU; {self.nproc} processes take one GPU each "
                                               "(cuda:0 …): choose auto or cuda"))
        if self.optim.epochs == 0 and not self.plugin_run:
            found.append(ConfigError("epochs", "a run needs at least 1 epoch (0 evaluates the old model only with "
                                               "freeze features; to evaluate a model, choose freeze all)"))
        trains = method is None or bool(method.repair_trains)  # τ-norm trains nothing (it chooses τ)
        if self.plugin_run and method and "heads" not in method.repair_trains and self.plugin.init == "fresh":
            found.append(ConfigError("init", f"{method.title} keeps the old classifier; a fresh one would "
                                             "replace it untrained (start from the old one)"))
        if self.plugin_run and self.plugin.search_temperatures:
            if not self.plugin.ensemble:
                found.append(ConfigError("search_temperatures", "the temperature search tunes the ensemble; switch "
                                                                "the ensemble on"))
            if self.optim.epochs == 0 and trains:
                found.append(ConfigError("search_temperatures", "with 0 epochs there is no new classifier to "
                                                                "ensemble"))
        return found

    def validate(self) -> RunConfig:
        """Check every field; raise the first ConfigError (``problems`` has them all). Returns self,
        its imbalance normalised."""
        first(self.problems())
        self.data.resolve()
        self.optim.decay_at = tuple(float(x) for x in self.optim.decay_at)
        self.optim.decay_factors = tuple(float(x) for x in self.optim.decay_factors)
        return self

