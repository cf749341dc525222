"""The Train page's fields, grouped like the seed app, and their mapping to ``RunConfig``.

Each field's ``config_path`` says where its value goes; fields without one (ensemble, t1,
t2, start epoch) feed the plug-in or are shown for information. The loss's hyperparameters
follow the loss field and fill ``method.params``.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractSpinBox, QWidget

from data import DATASET_KINDS
from engine.config import ARCHITECTURES, IMBALANCE_TYPES, RunConfig
from models import arch_title
from gui.engine_info import model_choices, pretrained_choices
from gui.forms import (BoolField, CheckpointField, ChoiceField, FloatField, Form, ImbalanceField, IntField, PathField,
                       TextField)
from gui.method_params import MethodParamsField

DATASETS = [(kind.name, kind.title) for kind in DATASET_KINDS.values()]  # the data layer's registry
IMBALANCE_TEXT = {"exp": "exp: counts fall exponentially", "step": "step: half the classes are few-shot",
                  "none": "none: keep the balanced set"}
TRAIN_RULES = [("none", "None"), ("resample", "Resample (class-balanced sampling)"),
               ("reweight", "Reweight (effective number)"), ("drw", "DRW (deferred re-weighting)")]
FREEZE_MODES = [("none", "None: train every layer"),
                ("features", "Freeze features: re-train the classifier (plug-in)"),
                ("all", "Freeze all parameters: evaluate only")]
SCHEDULES = [("step", "Step: decays at 80 % and 90 % of the run"), ("cosine", "Cosine to zero"),
             ("constant", "Constant")]
PRECISION_CHOICES = [("auto", "Automatic (bf16 where measured faster)"), ("fp32", "fp32"),
                     ("bf16", "bf16 mixed precision")]
RECALL_FLOORS = [(1e-3, "0.1 % (the paper's code)"), (0.0, "none (0 at any zero recall)")]
BEST_METRICS = [("test_hm", "HM"), ("test_gm", "GM"), ("test_lr", "Lowest recall"), ("test_top1", "Top-1 accuracy"),
                ("test_mean_recall", "Mean recall")]


def build_train_form() -> tuple[Form, list[QWidget]]:
    """The form and its group boxes, in display order."""
    form = Form("train")
    loss = ChoiceField("loss", "Loss type", "The training objective (for the plug-in: the loss that re-trains the "
                       "classifier; GML is the paper's).", [("ce", "Cross-entropy")], "method.loss")
    groups = [
        form.group("Data", [*dataset_fields(), ChoiceField(
            "train_rule", "Train rule", "How the long tail is countered while training: Resample draws classes "
            "equally often, Reweight weights the loss by the effective number of samples, DRW switches that "
            "weighting on at the first learning-rate decay.", TRAIN_RULES, "method.train_rule")]),
        form.group("Pretrained model and ensemble", [
            ChoiceField("freeze", "Pretrained", "Freeze feature extraction: keep a pretrained backbone and re-train "
                        "only its classifier with the loss below (the paper's GML plug-in). Freeze all: train nothing, "
                        "evaluate the pretrained model.", FREEZE_MODES, "model.freeze"),
            CheckpointField("pretrained", "Pretrained model", "Checkpoint to start from: files in the pretrained "
                            "folders, or any file via “…”. Foreign state dicts (DataParallel “module.”, “fc.”) are "
                            "remapped automatically.", pretrained_choices, "model.pretrained",
                            none_text="(none: random initialisation)", error_names=("checkpoint",)),
            CheckpointField("teacher", "Teacher model", "Distillation only (RIDE + distillation): the trained "
                            "teacher whose expert mean the student learns from, e.g. a “RIDE teacher (6 experts)” "
                            "run's checkpoint.", model_choices, "method.teacher", none_text="(none)"),
            BoolField("ensemble", "Ensemble", "Plug-in only: predict with ½·[softmax(z_new/t1) + softmax(z_old/t2)], "
                      "averaging the re-trained and the original classifier.", text="old + new classifier"),
            FloatField("t1", "Temperature t1", "Plug-in ensemble: temperature of the new (re-trained) classifier. "
                       "Higher values flatten its probabilities.", error_names=("t1",)),
            FloatField("t2", "Temperature t2", "Plug-in ensemble: temperature of the old (original) classifier.",
                       error_names=("t2",)),
        ]),
        form.group("Run", [
            IntField("seed", "Seed", "Training seed: initialisation, batch order and augmentation follow it, so a "
                     "run can be repeated. The long-tailed subset follows the cut seed instead.", "seed",
                     maximum=2_147_483_647),
            IntField("cut_seed", "Cut seed", "Seed of the long-tailed cut: which images of each class are kept. "
                     "0 keeps the subset LDAM-DRW, MiSLAS, RIDE and PaCo train on (their np.random.seed(0)), "
                     "whatever the training seed.", "data.cut_seed", maximum=2_147_483_647),
            PathField("runs_dir", "Log folder", "Where run folders are written (config, metrics.csv, checkpoints, "
                      "run card). Empty: the workspace's runs/ folder.", "runs_dir",
                      placeholder="workspace runs/ folder"),
            TextField("experiment", "Experiment name", "A label for the run; the run folder is named "
                      "<date>-<time>-<name>.", "experiment", placeholder="e.g. cifar100-lt-gml"),
            ChoiceField("device", "Device", "Where to train: Automatic uses the GPU when there is one.",
                        [("auto", "Automatic (GPU if present)"), ("cpu", "CPU")], "device"),
            ChoiceField("precision", "Precision", "Automatic: bf16 mixed precision where this machine measured it "
                        "faster (once, then remembered), with the classifier and any layer that is slow in bf16 "
                        "kept in fp32; else fp32. The choice is saved with the run.", PRECISION_CHOICES, "precision"),
        ]),
        form.group("Training", [
            IntField("start_epoch", "Start epoch", "The epoch the run starts at: 1 for a new run; Resume continues "
                     "a stopped run after its last saved epoch. Set by Resume, not typed.", minimum=0),
            IntField("epochs", "Epochs", "Passes over the training set (for the plug-in: classifier re-training "
                     "epochs). The paper setting is 200.", "optim.epochs"),
            IntField("threads", "CPU threads", "Threads for the engine on the CPU. 0: one per CPU, fixed, so a run's "
                     "numbers never depend on how busy the machine is; the count used is saved with the run.",
                     "threads"),
            IntField("batch_size", "Batch size", "Images per optimisation step (128 in the paper setting).",
                     "optim.batch_size"),
        ]),
        form.group("Model and optimiser", [
            ChoiceField("arch", "Architecture", "CIFAR ResNet depth (option-A shortcuts). ResNet-32 is the paper "
                        "setting. With a pretrained model it must match the checkpoint; the plug-in reads it from "
                        "the checkpoint.", [(a, arch_title(a)) for a in ARCHITECTURES], "model.arch"),
            loss,
            FloatField("lr", "Learning rate", "SGD learning rate at the end of warm-up (0.1 in the paper setting).",
                       "optim.lr"),
            FloatField("momentum", "Momentum", "SGD momentum: the share of the previous step carried into the next "
                       "(0.9 in the paper setting).", "optim.momentum"),
            BoolField("nesterov", "Nesterov", "Nesterov momentum (RIDE's recipe uses it; LDAM-DRW's does not).",
                      "optim.nesterov", text="Nesterov momentum"),
            FloatField("weight_decay", "Weight decay", "L2 penalty on the weights (2e-4 in the paper setting).",
                       "optim.weight_decay"),
        ]),
        form.group("Method hyperparameters", [
            loss_params_field(loss, "method.params", empty_text="This loss has no hyperparameters.")]),
        form.group("Schedule and output", [
            ChoiceField("schedule", "LR schedule", "How the learning rate falls over the run. Step is LDAM-DRW's "
                        "schedule (×0.01 after epoch 160 and ×0.0001 after epoch 180 of 200); Cosine falls smoothly "
                        "to zero.", SCHEDULES, "optim.schedule"),
            IntField("warmup_epochs", "Warm-up epochs", "Epochs of linear learning-rate warm-up at the start "
                     "(5 in LDAM-DRW); must be fewer than the epochs.", "optim.warmup_epochs"),
            ChoiceField("recall_floor", "HM/GM/LR floor", "How HM, GM and LR treat a class at zero recall. The "
                        "paper's code floors every class's recall at 0.1 % first, so the means still say how far "
                        "behind the others are; unfloored, one zero-recall class makes HM and GM 0. The count of "
                        "zero-recall classes is shown either way.", RECALL_FLOORS, "recall_floor"),
            ChoiceField("best_metric", "Best checkpoint by", "Which test metric picks checkpoints/best.pt.",
                        BEST_METRICS, "best_metric"),
            BoolField("save_model", "Save model", "Write checkpoints/last.pt every epoch and best.pt when the "
                      "chosen metric improves (needed for Resume).", "save_model", text="save checkpoints"),
        ]),
    ]
    form.align_labels()
    start = form["start_epoch"].editor
    start.setReadOnly(True)
    start.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
    return form, groups


def dataset_fields() -> list:
    """Dataset, data path, imbalance and imbalance type (shared by the Train and Compare pages)."""
    return [
        ChoiceField("dataset", "Dataset", "Which images to use. The demo set is bundled handwritten digits and "
                    "needs no download; CIFAR is downloaded once into the data path (or read from there).",
                    DATASETS, "data.dataset"),
        PathField("root", "Data path", "Folder that holds the dataset: CIFAR's python pickles, your image folder "
                  "with one sub-folder per class, or the root the large benchmarks' lists name their images from "
                  "(ImageNet_LT_*.txt, Places_LT_*.txt, iNaturalist18_*.txt or train2018.json). Empty: the "
                  "workspace's datasets/ folder.",
                  "data.root", placeholder="workspace datasets/ folder"),
        ImbalanceField("imbalance", "Imbalance", "How long the tail is. Type the ratio n_max/n_min (100) or the "
                       "seed's imbalance factor n_min/n_max (0.01): both mean the largest class has 100× the images "
                       "of the smallest.", "data.imbalance_ratio", error_names=("imbalance",)),
        ChoiceField("imbalance_type", "Imbalance type", "How the balanced training set is cut into a long-tailed "
                    "one: exp lowers the count exponentially from class to class (LDAM-DRW); step keeps half the "
                    "classes large and cuts the other half to n_max/ratio.",
                    [(t, IMBALANCE_TEXT[t]) for t in IMBALANCE_TYPES], "data.imbalance_type"),
    ]


def loss_params_field(loss: ChoiceField, config_path: str | None = None, empty_text: str = "") -> MethodParamsField:
    """The hyperparameters of the loss chosen in ``loss`` (shared by the Train and Compare pages)."""
    return MethodParamsField("params", "The chosen loss's hyperparameters, preset to its paper's values (hover a "
                             "name for its meaning). Only values that differ from the defaults are written to the "
                             "run's config.", loss, config_path, empty_text, error_names=("loss_params",))


def get_path(config: Any, path: str) -> Any:
    for part in path.split("."):
        config = getattr(config, part)
    return config


def set_path(config: Any, path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        config = getattr(config, part)
    setattr(config, leaf, value)


def fill_form(form: Form, config: RunConfig) -> None:
    """Show ``config`` in the fields that map to it."""
    for field in form.fields.values():
        if field.config_path:
            field.set_value(get_path(config, field.config_path))


def config_from_form(form: Form, base: RunConfig) -> RunConfig:
    """A copy of ``base`` with every mapped field's value (raises ConfigError for unreadable text)."""
    config = RunConfig.from_dict(base.to_dict())
    for field in form.fields.values():
        if field.config_path:
            set_path(config, field.config_path, field.value())
    return config
