<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>CompareForm</name>
    <message>
        <source>(choose a model)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ComparePanel</name>
    <message>
        <source>Plug-in: re-train the classifier</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <source>{0} failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Please check</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Something went wrong</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The details are also in {0}.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>FigureExport</name>
    <message>
        <source>Scalable Vector Graphics (*.svg)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Forms</name>
    <message>
        <source>{0} is not a number; type e.g. 0.1 or 2e-4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>type a ratio such as 100, or a factor such as 0.01</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>must be positive</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ratio n_max/n_min = {0} (factor {1})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a checkpoint file (.pt, .pth, .tar, .ckpt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checkpoints (*.pt *.pth *.tar *.ckpt);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>InferencePanel</name>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.bmp *.webp *.gif *.tif *.tiff);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Top-5 (probability %)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>From the checkpoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This checkpoint names no classes; choose the dataset it was trained on under Class names to see labels instead of class numbers.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no image files found there; drop PNG, JPEG, BMP or WebP files, or a folder of them</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n expert(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checkpoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The trained model: best/last checkpoints of recent runs, the pretrained folders, or any file via “…”.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(choose a model)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read from the checkpoint when it can tell; pick one only for a foreign file whose depth cannot be inferred.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Class names</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Where the label names come from: the checkpoint&apos;s metadata, or the dataset the model was trained on (for plain state dicts without names).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drop images here, or use Open images… / Open folder….</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open images…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predict one or many image files (PNG, JPEG, BMP, WebP; any size).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predict every image file in a folder and its sub-folders.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the table (file, top-5 labels and probabilities) as CSV.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drop image files or a folder here

PNG · JPEG · BMP · WebP, any size; grey, RGBA and 16-bit images are converted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images to classify</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder of images to classify</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>choose a model (a checkpoint) first, then drop the images again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The engine is still loading; the images are predicted as soon as it is ready.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading {0}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prediction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predicting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) predicted</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>; %n could not be read (see Message)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>No model loaded: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export predictions</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Language</name>
    <message>
        <source>System</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LanguageMenu</name>
    <message>
        <source>&amp;Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The language changes when Long-Tail Studio starts again. Restart now?</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PredictionDetail</name>
    <message>
        <source>no image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cannot read</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{0} called by the router</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>n/a</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RunsPanel</name>
    <message>
        <source>{0} is damaged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Problem</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Dataset</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Which images to use. The demo set is bundled handwritten digits and needs no download; CIFAR is downloaded once into the data path (or read from there). ImageNet-LT, Places-LT, iNaturalist 2018, image lists and image trees are streamed from disk by decoding workers.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Demo digits (bundled, offline)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CIFAR-10</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CIFAR-100</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image folder (class sub-folders, held in memory)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ImageNet-LT (1,000 classes, streamed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Places-LT (365 classes, streamed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>iNaturalist 2018 (8,142 classes, streamed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image lists (path label, streamed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image tree (train/ test/ class folders, streamed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Data path</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder that holds the dataset: CIFAR&apos;s python pickles, your image folder with one sub-folder per class, or the root the large benchmarks&apos; lists name their images from (ImageNet_LT_*.txt, Places_LT_*.txt, iNaturalist18_*.txt or train2018.json). Empty: the workspace&apos;s datasets/ folder (datasets/&lt;name&gt; for the streamed ones).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>workspace datasets/ folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Imbalance type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How the balanced training set is cut into a long-tailed one: exp lowers the count exponentially from class to class (LDAM-DRW); step keeps half the classes large and cuts the other half to n_max/ratio; none keeps the set as it is. A command line that names only the dataset gets its own type: exp for CIFAR and the demo, none for every other dataset (the large benchmarks&apos; official lists are long-tailed already).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>exp: counts fall exponentially</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>step: half the classes are few-shot</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none: keep the balanced set</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Imbalance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How long the tail is. Type the ratio n_max/n_min (100) or the seed&apos;s imbalance factor n_min/n_max (0.01): both mean the largest class has 100× the images of the smallest.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Side of the square images the model sees, in pixels. 0: the dataset&apos;s own (32 for CIFAR, the demo and folders; 224 for the streamed datasets, resized to 256 and centre-cropped for evaluation).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Held-out share</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Test share of an image folder without a test/ sub-folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Augment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Random crop (4-pixel padding) and horizontal flip of the training images; RandomResizedCrop and flip when streamed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour jitter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Streamed datasets: ColorJitter(j, j, j, 0) after the crop (0.4 in the recipes that use it; 0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loader workers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Streamed datasets: decoding processes, at most the CPUs this process may use (0: decode in the training process).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cut seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seed of the long-tailed cut (and of an image folder&apos;s held-out split): which images of each class are kept. 0 keeps the subset LDAM-DRW, MiSLAS, RIDE and PaCo train on, whatever the training seed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The network: the CIFAR ResNets (ResNet-32 is the CIFAR paper setting) or torchvision&apos;s ImageNet ResNets for the large benchmarks. With a pretrained model it must match the checkpoint; the plug-in reads it from the checkpoint when the file says.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ResNet-20</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ResNet-32</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ResNet-44</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ResNet-56</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ResNet-110</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ResNet-10 (ImageNet)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ResNet-50 (ImageNet)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ResNeXt-50 (32×4d, ImageNet)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ResNet-152 (ImageNet)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pretrained model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checkpoint to start from: files in the pretrained folders, or any file via “…”. Foreign state dicts (DataParallel “module.”, “fc.”) are remapped automatically; a torchvision ImageNet weights file (e.g. resnet152-394f9c45.pth) initialises the trunk of an ImageNet architecture.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pretrained</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Freeze features: keep a pretrained backbone and re-train only its classifier with the loss (the paper&apos;s GML plug-in, with the plug-in settings). Train the last block: only the trunk&apos;s last residual block, its BatchNorm layers and the heads train (PaCo&apos;s Places-LT fine-tuning of an ImageNet ResNet). Freeze all: train nothing, evaluate the pretrained model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None: train every layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Freeze features: re-train the classifier (plug-in)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Train the last block, BatchNorm and heads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Freeze all parameters: evaluate only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loss type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The method: its loss, model and stages (for the plug-in: the loss that re-trains the classifier; GML is the paper&apos;s).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cross-entropy (CE)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Balanced softmax CE (BSCE)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Focal loss</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Logit-adjusted CE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LDAM (cosine head)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LADE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feature-balanced loss (FeaBal)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Geometric mean loss (GML)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MiSLAS (mixup, then label-aware smoothing)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parametric contrastive learning (PaCo)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>RIDE (3 experts)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>RIDE teacher (6 experts)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>RIDE + distillation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cRT: re-train the classifier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LWS: learnable weight scaling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>τ-norm: normalised weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>WB: weight balancing, stage 2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hyperparameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The method&apos;s hyperparameters, preset to its paper&apos;s values; only values that differ from the defaults are stored.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run only these stages of the method (e.g. mislas: classifier, ride: router, on a pretrained checkpoint); empty: all.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Train rule</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How the long tail is countered while training: Resample draws classes equally often, Reweight weights the loss by the effective number of samples, DRW switches that weighting on at the first learning-rate decay.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resample (class-balanced sampling)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reweight (effective number)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DRW (deferred re-weighting)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reweight β</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Effective-number β of Reweight and DRW.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Teacher model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Distillation only (RIDE + distillation): the trained teacher whose expert mean the student learns from, e.g. a “RIDE teacher (6 experts)” run&apos;s checkpoint.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DRW epoch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DRW&apos;s class weights apply from this 1-based epoch on (0: the first learning-rate decay, LDAM-DRW&apos;s rule; RIDE&apos;s large-benchmark recipes set it).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Passes over the training set (for the plug-in: classifier re-training epochs; 0 there evaluates the old model only).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images per optimisation step.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The learning rate at the end of warm-up.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Momentum</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SGD momentum: the share of the previous step carried into the next.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weight decay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>L2 penalty on the weights.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nesterov</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nesterov momentum (RIDE&apos;s recipe uses it; LDAM-DRW&apos;s does not).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Optimiser</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SGD, Adam (which ignores momentum and Nesterov), or SAM: sharpness-aware minimisation over SGD, two forward/backward passes per step (the second at the weights moved by ρ along the gradient).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SGD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adam</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SAM (sharpness-aware, over SGD)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SAM ρ</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SAM&apos;s neighbourhood radius (davda/sam&apos;s default 0.05; Saddle-LongTail uses 0.8 for LDAM-DRW on CIFAR-LT). Only with the SAM optimiser.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adaptive SAM</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASAM: the neighbourhood scales with each weight&apos;s size (use a larger ρ, e.g. 2.0). Only with the SAM optimiser.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LR schedule</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How the learning rate falls over the run after warm-up: step multiplies it by each decay factor at its decay point (LDAM-DRW: ×0.01 after epoch 160 and ×0.0001 after 180 of 200); cosine falls smoothly to zero; constant keeps it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step: decays at fixed fractions of the run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cosine to zero</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Constant</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warm-up epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Epochs of linear learning-rate warm-up at the start; fewer than the epochs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decay points</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step decays as fractions of the run (0.8 0.9 = epochs 160 and 180 of 200).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decay factors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Learning-rate factor after each decay point (LDAM-DRW 0.01 0.0001; MiSLAS 0.1 0.01).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plug-in sampler</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How the re-training draws images: instance (every image once per epoch; GML balances classes itself), class_balanced, square_root or class_aware.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New classifier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The re-trained classifier starts as a copy of the old one, or fresh.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy of the old classifier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fresh initialisation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ensemble</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plug-in: also predict with ½·[softmax(z_new/t1) + softmax(z_old/t2)], averaging the re-trained and the original classifier.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Temperature t1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plug-in ensemble: temperature of the new (re-trained) classifier. Higher values flatten its probabilities.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Temperature t2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plug-in ensemble: temperature of the old (original) classifier.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search temperatures</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose t1 and t2 on a held-out split of the training data (maximising HM).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Held-out share (search)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The share of each class held out for the temperature search.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cache features</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run the frozen backbone once and re-train on cached features (off: a full forward pass per batch).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feature passes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Augmented passes cached when augmentation is on.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MaxNorm threshold</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weight balancing&apos;s MaxNorm on the re-trained classifier: each class&apos;s weight norm is capped at min + threshold·(max − min) of the class norms it starts from (the official rule: 0.1 is relative, not an absolute norm). 0: off.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MaxNorm after</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>When MaxNorm projects: after every optimiser step (the paper; the author&apos;s intent) or after each epoch (the official code).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>every step (paper)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>every epoch (official code)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training seed: initialisation, batch order and augmentation follow it, so a run can be repeated. The long-tailed subset follows the cut seed instead.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Where to train: auto uses the GPU when there is one; cpu, cuda or cuda:N.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic (GPU if present)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU threads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Threads for the engine on the CPU. 0: one per CPU (or OMP_NUM_THREADS when exported), fixed, so a run&apos;s numbers never depend on how busy the machine is; config.json records the count used (engine/cpu_policy.py).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Experiment name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A label for the run; the run folder is named &lt;date&gt;-&lt;time&gt;-&lt;name&gt;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>e.g. cifar100-lt-gml</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Where run folders are written (config, metrics.csv, checkpoints, run card). Empty: the workspace&apos;s runs/ folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>workspace runs/ folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write checkpoints/last.pt every epoch and best.pt when the chosen metric improves (needed for Resume).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Best checkpoint by</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Which test metric picks checkpoints/best.pt.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HM</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GM</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lowest recall</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Top-1 accuracy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean recall</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Precision</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>auto: bf16 mixed precision where this machine measured it faster (once, then remembered), with the classifier and every convolution that is slow in bf16 here kept in fp32; else fp32. config.json records the precision used (docs/precision.md).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic (bf16 where measured faster)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>bf16 mixed precision</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>fp32 layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Under bf16, the modules kept in fp32 (None: the heads and the convolutions this machine measured slow in bf16). Recorded in config.json; set it there to repeat a run&apos;s choice elsewhere.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Compile</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>torch.compile the training step (falls back if it fails; no gain measured on CPU, engine/speed.py).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HM/GM/LR floor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How HM, GM and LR treat a class at zero recall. The paper&apos;s code floors every class&apos;s recall at 0.1 % first, so the means still say how far behind the others are; 0 leaves them unfloored, and one zero-recall class makes HM and GM 0. The count of zero-recall classes is shown either way.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>0.1 % (the paper&apos;s code)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none (0 at any zero recall)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>γ, focusing power of (1 − p)^γ (LDAM-DRW&apos;s CIFAR protocol: 1; focal paper: 2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>τ, the strength of the prior shift log π_c added to the logits (paper: 1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>margin of the rarest class; the others get max_margin·(n_min/n_c)^(1/4) (paper code: 0.5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>s, the scale of the cosine logits in training and evaluation (paper code: 30)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>α, weight of the LADE regulariser added to the prior CE (official CIFAR-100-LT: 0.1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>λ of the regularised DV bound, penalising S_c² (official CIFAR-100-LT, ratio 100: 0.01)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>λ, strength of the tail stimulus λ·s_c/‖f‖, ramped in as (epoch / (0.95·epochs))² (official CIFAR: 60)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>α of the stage-1 mixup, λ ~ Beta(α, α) (official: 1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ε_1, the label smoothing of the largest class (official CIFAR-100-LT, 100: 0.4)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ε_K, the label smoothing of the smallest class (official CIFAR-100-LT, 100: 0.1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>how ε falls from head to tail: 0 concave (official), 1 linear, 2 convex, 3 exp</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the exponent of the exp shape</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>1: re-estimate the frozen backbone&apos;s BatchNorm statistics in stage 2 (official CIFAR-100: 1, CIFAR-10: 0)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stage-2 classifier learning rate as a factor of the LWS one (official CIFAR-100-LT, 100: 0.2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>epochs of stage 2 (official: 10)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stage-2 learning rate, cosine to 0 (official: 0.1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>weight of same-class samples (queries, keys, queue) as positives</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>weight of the true class centre as a positive</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>weight of the samples in the softmax normaliser (class centres weigh 1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>τ of the sample logits q·k/τ</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>divisor of the class-centre logits (+ log prior)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>m: the key encoder moves by θ_k ← m·θ_k + (1 − m)·θ_q after each step</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>K, keys kept in the queue (any size; the queue wraps around)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>dimension of the MLP projection the contrast works in</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>1: the query view is the SimCLR view too (PaCo&apos;s Places-LT script, aug sim_sim); 0: its own view (CIFAR: AutoAugment + Cutout; ImageNet-LT, iNaturalist: RandAugment)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>number of experts (paper code: 3; the distillation teacher has 6)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LDAM margin of the rarest class (paper code: 0.5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>s, the cosine classifiers&apos; scale, applied in the model (paper code: 30)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>weight of the diversity KL; negative pushes experts apart (paper code: −0.45)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>base temperature of the diversity KL (paper code: 1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>per-class temperature after the reweight epoch: ∝ C·π_c·f + 1 − f (paper code: 0.05)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>epochs of the router stage; 0 = no router (paper code: 5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>router stage learning rate, cosine to 0 (paper code: 0.01)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>router stage batch size (paper code: 512)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BCE weight of &apos;call the next expert&apos; labels: more compute, more accuracy (paper code: 100)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the router reads the k largest running-mean logits (paper code: 30 CIFAR, 50 ImageNet-LT and iNaturalist)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>T_d of the distillation KL to the teacher&apos;s expert mean (paper code: 1.5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>weight of the distillation term (paper code: 1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>1: the whole objective × number of experts, as the official loop does; 0: plain sum</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>1: teacher BatchNorm in train mode, as the official code leaves it; 0: eval mode</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>smallest τ of the grid (official: 0, the old classifier without its bias)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>largest τ of the grid (official: 2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>grid points from tau_min to tau_max (official: 21, a step of 0.1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>β of the class-balanced weights (1 − β)/(1 − β^n) (official: 0.9999)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Theme</name>
    <message>
        <source>Follow the system</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Light</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dark</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TrainForm</name>
    <message>
        <source>Training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Method hyperparameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pretrained model and ensemble</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model and optimiser</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run and output</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start epoch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The epoch the next run begins at: 1 for a new run; after a stop, Resume continues after the last saved epoch. Set by the app, not typed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This loss has no hyperparameters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(none: random initialisation)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(none)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TrainPanel</name>
    <message>
        <source>Fill the fields with a named setting: the offline demo, or the CIFAR-100-LT paper setting of a method (ResNet-32, ratio 100, 200 epochs, SGD 0.1). The data path, log folder, experiment name, device and CPU threads stay yours.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Apply</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Replace the fields with the chosen preset.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Check the fields and start a run (or the plug-in when the backbone is frozen). {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop after the current batch; the last finished epoch&apos;s checkpoint is kept. {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>preset: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re-training the classifier (plug-in)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Evaluating</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{0} cannot be resumed: {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>resuming</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resuming {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{0} is not a run folder (it has no config.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>opened {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Opened run: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resume continues here</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the run is finished: Start begins a new one</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a new run</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ViewPreviewDialog</name>
    <message>
        <source>as stored</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>crop + flip</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>query: AutoAugment + Cutout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>key: SimCLR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What the model trains on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>class</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>original</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Each view is drawn anew for every image in every epoch; these are one draw.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
