<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ChangeBars</name>
    <message>
        <source>Per-class change</source>
        <translation>各类变化</translation>
    </message>
    <message>
        <source>classes, largest gain → largest loss</source>
        <translation>类别，提升最大 → 下降最大</translation>
    </message>
    <message>
        <source>change in recall (points)</source>
        <translation>召回率变化（百分点）</translation>
    </message>
    <message>
        <source>gain</source>
        <translation>提升</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>下降</translation>
    </message>
    <message>
        <source>at zero after</source>
        <translation>之后仍为零</translation>
    </message>
    <message>
        <source>&lt;b&gt;{0}&lt;/b&gt;: {1:.1f} → {2:.1f} % ({3:+.1f})</source>
        <translation>&lt;b&gt;{0}&lt;/b&gt;：{1:.1f} → {2:.1f} %（{3:+.1f}）</translation>
    </message>
</context>
<context>
    <name>ClassBars</name>
    <message>
        <source>many</source>
        <translation>多数</translation>
    </message>
    <message>
        <source>medium</source>
        <translation>中等</translation>
    </message>
    <message>
        <source>few</source>
        <translation>少数</translation>
    </message>
    <message>
        <source>classes, most → fewest training images</source>
        <translation>类别，训练图像从多到少</translation>
    </message>
    <message>
        <source>recall (%)</source>
        <translation>召回率 (%)</translation>
    </message>
    <message>
        <source>{0}-shot →</source>
        <translation>{0}类 →</translation>
    </message>
    <message>
        <source>{0}-shot</source>
        <translation>{0}类</translation>
    </message>
    <message>
        <source>running mean ({0} classes)</source>
        <translation>滑动平均（{0} 个类别）</translation>
    </message>
    <message>
        <source>zero recall</source>
        <translation>零召回</translation>
    </message>
    <message>
        <source>classes, most → fewest training images (tick: name and images)</source>
        <translation>类别，训练图像从多到少（刻度：名称和图像数）</translation>
    </message>
    <message numerus="yes">
        <source>&lt;b&gt;{0}&lt;/b&gt; · %n training image(s)</source>
        <translation>
            <numerusform>&lt;b&gt;{0}&lt;/b&gt; · %n 张训练图像</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ClassTable</name>
    <message>
        <source>Every class, ranked by training images. Many / medium / few: &gt; 100, 20–100, &lt; 20 training images. Click a header to sort.</source>
        <translation>所有类别，按训练图像数排序。多数类 / 中等类 / 少数类：训练图像 &gt; 100、20–100、&lt; 20。点击表头可排序。</translation>
    </message>
    <message>
        <source>Search classes…</source>
        <translation>搜索类别…</translation>
    </message>
    <message>
        <source>Only classes at zero recall</source>
        <translation>只显示零召回类别</translation>
    </message>
    <message>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Training images</source>
        <translation>训练图像数</translation>
    </message>
    <message>
        <source>Group</source>
        <translation>分组</translation>
    </message>
    <message>
        <source>Recall %</source>
        <translation>召回率 %</translation>
    </message>
    <message>
        <source>Precision %</source>
        <translation>精确率 %</translation>
    </message>
    <message>
        <source>{0} %</source>
        <translation>{0} %</translation>
    </message>
    <message>
        <source>Change (points)</source>
        <translation>变化（百分点）</translation>
    </message>
    <message>
        <source>{0} classes</source>
        <translation>{0} 个类别</translation>
    </message>
    <message>
        <source>{0} of {1} classes</source>
        <translation>{0} / {1} 个类别</translation>
    </message>
</context>
<context>
    <name>CompareForm</name>
    <message>
        <source>(choose a model)</source>
        <translation>（选择一个模型）</translation>
    </message>
</context>
<context>
    <name>ComparePanel</name>
    <message>
        <source>Plug-in: re-train the classifier</source>
        <translation>插件：分类器重训练</translation>
    </message>
    <message>
        <source>Run plug-in</source>
        <translation>运行插件</translation>
    </message>
    <message>
        <source>Re-train the chosen model&apos;s classifier on the chosen data and compare it with the original, class by class.</source>
        <translation>在所选数据上重训练所选模型的分类器，并与原模型逐类比较。</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the plug-in after the current batch.</source>
        <translation>在当前批次之后停止插件。</translation>
    </message>
    <message>
        <source>Everything compared on the right: the plug-in&apos;s old / new / ensemble and the run folders you added.</source>
        <translation>右侧比较的全部内容：插件的旧 / 新 / 集成模型，以及你添加的运行文件夹。</translation>
    </message>
    <message>
        <source>Add run folders…</source>
        <translation>添加运行文件夹…</translation>
    </message>
    <message>
        <source>Add saved run folders (training or plug-in runs) to overlay their curves and bars.</source>
        <translation>添加已保存的运行文件夹（训练或插件运行），叠加显示其曲线和柱状图。</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Remove the selected entries.</source>
        <translation>移除所选条目。</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <source>Remove every entry.</source>
        <translation>移除所有条目。</translation>
    </message>
    <message>
        <source>Compared</source>
        <translation>比较内容</translation>
    </message>
    <message>
        <source>accuracy (%)</source>
        <translation>准确率 (%)</translation>
    </message>
    <message>
        <source>The series each class&apos;s change is measured from.</source>
        <translation>计算各类变化时作为起点的序列。</translation>
    </message>
    <message>
        <source>The series each class&apos;s change is measured to.</source>
        <translation>计算各类变化时作为终点的序列。</translation>
    </message>
    <message>
        <source>Before</source>
        <translation>之前</translation>
    </message>
    <message>
        <source>After</source>
        <translation>之后</translation>
    </message>
    <message>
        <source>Change from</source>
        <translation>变化：从</translation>
    </message>
    <message>
        <source>to</source>
        <translation>到</translation>
    </message>
    <message>
        <source>Per class</source>
        <translation>各类</translation>
    </message>
    <message>
        <source>Change per class</source>
        <translation>各类变化</translation>
    </message>
    <message>
        <source>Classes: before → after</source>
        <translation>类别：之前 → 之后</translation>
    </message>
    <message>
        <source>Test curves of the compared runs</source>
        <translation>所比较运行的测试曲线</translation>
    </message>
    <message>
        <source>Which test metric the curves show, per epoch.</source>
        <translation>曲线显示哪个测试指标（按轮）。</translation>
    </message>
    <message>
        <source>Curve metric</source>
        <translation>曲线指标</translation>
    </message>
    <message>
        <source>Model (last epoch)</source>
        <translation>模型（最后一轮）</translation>
    </message>
    <message>
        <source>Zero-recall classes</source>
        <translation>零召回类别</translation>
    </message>
    <message>
        <source>Test metrics in percent, of each run&apos;s last epoch. HM, GM and LR floor each class&apos;s recall at 0.1 % (the paper&apos;s code) unless the run says otherwise; the last column counts the classes at zero recall. Many / Medium / Few: &gt; 100, 20–100, &lt; 20 training images. ECE: calibration error, 15 bins.</source>
        <translation>各运行最后一轮的测试指标（百分比）。除非运行另有设置，HM、GM 和 LR 先把每类召回率下限设为 0.1 %（论文代码）；最后一列统计零召回类别数。多数类 / 中等类 / 少数类：训练图像 &gt; 100、20–100、&lt; 20。ECE：校准误差，15 个区间。</translation>
    </message>
    <message>
        <source>{0}: loading the model and the data…</source>
        <translation>{0}：正在加载模型和数据…</translation>
    </message>
    <message>
        <source>The plug-in</source>
        <translation>插件</translation>
    </message>
    <message>
        <source>Plug-in: loading the model and the data…</source>
        <translation>插件：正在加载模型和数据…</translation>
    </message>
    <message>
        <source>{0}: {1}</source>
        <translation>{0}：{1}</translation>
    </message>
    <message>
        <source>tuning epoch {0}/{1}: test Acc {2:.2f}  HM {3:.2f}  LR {4:.2f}  ({5} at zero)</source>
        <translation>重训练第 {0}/{1} 轮：测试 Acc {2:.2f}  HM {3:.2f}  LR {4:.2f}（{5} 个为零）</translation>
    </message>
    <message>
        <source>{0} · new, epoch {1}/{2}</source>
        <translation>{0} · 新分类器，第 {1}/{2} 轮</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>plug-in run folder: {0}</source>
        <translation>插件运行文件夹：{0}</translation>
    </message>
    <message>
        <source>{0} plug-in</source>
        <translation>{0} 插件</translation>
    </message>
    <message>
        <source>dataset fields set from the checkpoint: {0}</source>
        <translation>数据集字段已按检查点设置：{0}</translation>
    </message>
    <message>
        <source>Per-class accuracy</source>
        <translation>各类准确率</translation>
    </message>
    <message>
        <source>Add run folders</source>
        <translation>添加运行文件夹</translation>
    </message>
    <message>
        <source>Per-class accuracy · {0} classes</source>
        <translation>各类准确率 · {0} 个类别</translation>
    </message>
    <message>
        <source> · {0} series with another class count not shown</source>
        <translation> · 未显示 {0} 个类别数不同的序列</translation>
    </message>
    <message>
        <source>Choose two series with the same classes.</source>
        <translation>请选择类别相同的两个序列。</translation>
    </message>
    <message>
        <source>Change per class: {0} → {1}</source>
        <translation>各类变化：{0} → {1}</translation>
    </message>
    <message>
        <source>No class is at zero recall after; {0} left zero.</source>
        <translation>之后没有零召回类别；{0} 个类别脱离了零。</translation>
    </message>
    <message>
        <source>Still at zero after: {0} classes ({1} left zero): {2}</source>
        <translation>之后仍为零：{0} 个类别（{1} 个脱离了零）：{2}</translation>
    </message>
    <message>
        <source> … and {0} more</source>
        <translation> … 以及另外 {0} 个</translation>
    </message>
    <message>
        <source>Many</source>
        <translation>多数类</translation>
    </message>
    <message>
        <source>Medium</source>
        <translation>中等类</translation>
    </message>
    <message>
        <source>Few</source>
        <translation>少数类</translation>
    </message>
    <message>
        <source>Top-1 accuracy</source>
        <translation>Top-1 准确率</translation>
    </message>
    <message>
        <source>Lowest recall (LR)</source>
        <translation>最低召回率 (LR)</translation>
    </message>
    <message>
        <source>{0} is not a run folder (it has no config.json); choose a folder under runs/</source>
        <translation>{0} 不是运行文件夹（没有 config.json）；请选择 runs/ 下的文件夹</translation>
    </message>
    <message>
        <source>{0} has no finished epoch yet, so there is nothing to compare</source>
        <translation>{0} 还没有完成的一轮，没有可比较的内容</translation>
    </message>
</context>
<context>
    <name>ConfusionView</name>
    <message>
        <source>Confusion matrix</source>
        <translation>混淆矩阵</translation>
    </message>
    <message>
        <source>predicted class, most → fewest training images</source>
        <translation>预测类别，训练图像从多到少</translation>
    </message>
    <message>
        <source>true class (most → fewest)</source>
        <translation>真实类别（从多到少）</translation>
    </message>
    <message>
        <source>log10(1 + images)</source>
        <translation>log10(1 + 图像数)</translation>
    </message>
    <message>
        <source>Wheel to zoom, drag to pan; click a cell to see which classes are confused.</source>
        <translation>滚轮缩放，拖动平移；点击单元格查看哪些类别被混淆。</translation>
    </message>
    <message>
        <source>Whole matrix</source>
        <translation>整个矩阵</translation>
    </message>
    <message>
        <source>Zoom out to every class.</source>
        <translation>缩小到显示所有类别。</translation>
    </message>
    <message>
        <source>True class → taken for</source>
        <translation>真实类别 → 被误认为</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>图像数</translation>
    </message>
    <message>
        <source>% of class</source>
        <translation>占该类 %</translation>
    </message>
    <message>
        <source>The off-diagonal cells with the most test images: which class is taken for which. Click one to zoom to it.</source>
        <translation>测试图像最多的非对角单元格：哪个类别被误认为哪个类别。点击可放大到该处。</translation>
    </message>
    <message>
        <source>Most confused pairs</source>
        <translation>最易混淆的类别对</translation>
    </message>
    <message>
        <source>Confusion matrix: not saved for this run yet</source>
        <translation>混淆矩阵：该运行尚未保存</translation>
    </message>
    <message>
        <source>Confusion matrix · {0} classes · rows: true class</source>
        <translation>混淆矩阵 · {0} 个类别 · 行：真实类别</translation>
    </message>
    <message>
        <source>{0} recognised as itself once</source>
        <translation>{0} 被正确识别 1 次</translation>
    </message>
    <message>
        <source>{0} recognised as itself {2} times</source>
        <translation>{0} 被正确识别 {2} 次</translation>
    </message>
    <message>
        <source>{0} taken for {1} once</source>
        <translation>{0} 被误认为 {1} 1 次</translation>
    </message>
    <message>
        <source>{0} taken for {1} {2} times</source>
        <translation>{0} 被误认为 {1} {2} 次</translation>
    </message>
    <message>
        <source> ({0:.1f} % of its {1} test images)</source>
        <translation>（占其 {1} 张测试图像的 {0:.1f} %）</translation>
    </message>
</context>
<context>
    <name>CurvePlot</name>
    <message>
        <source>epoch</source>
        <translation>轮次</translation>
    </message>
    <message>
        <source>percent (%)</source>
        <translation>百分比 (%)</translation>
    </message>
</context>
<context>
    <name>EngineInfo</name>
    <message>
        <source>bundled</source>
        <translation>内置</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <source>{0} failed</source>
        <translation>{0}失败</translation>
    </message>
    <message>
        <source>Please check</source>
        <translation>请检查</translation>
    </message>
    <message>
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
    <message>
        <source>The details are also in {0}.</source>
        <translation>详细信息也写在 {0} 中。</translation>
    </message>
</context>
<context>
    <name>FigureExport</name>
    <message>
        <source>Scalable Vector Graphics (*.svg)</source>
        <translation>可缩放矢量图形 (*.svg)</translation>
    </message>
    <message>
        <source>Long-Tail Studio plot</source>
        <translation>Long-Tail Studio 图表</translation>
    </message>
</context>
<context>
    <name>FigureExportDialog</name>
    <message>
        <source>PNG image</source>
        <translation>PNG 图像</translation>
    </message>
    <message>
        <source>SVG vector image</source>
        <translation>SVG 矢量图</translation>
    </message>
    <message>
        <source>PDF vector document</source>
        <translation>PDF 矢量文档</translation>
    </message>
    <message>
        <source>{0}: save figures as .png, .svg or .pdf</source>
        <translation>{0}：图表请保存为 .png、.svg 或 .pdf</translation>
    </message>
    <message>
        <source>{0} DPI is outside 30 to 1200</source>
        <translation>{0} DPI 超出 30 到 1200 的范围</translation>
    </message>
    <message>
        <source>{0!r} is not a figure size ({1})</source>
        <translation>{0!r} 不是图表尺寸（{1}）</translation>
    </message>
    <message>
        <source>{0} could not be written; choose another folder or name</source>
        <translation>无法写入 {0}；请选择其他文件夹或名称</translation>
    </message>
    <message>
        <source>Export figures</source>
        <translation>导出图表</translation>
    </message>
    <message>
        <source>Single column: 3.5 × 2.5 in</source>
        <translation>单栏：3.5 × 2.5 英寸</translation>
    </message>
    <message>
        <source>Double column: 7 × 3 in</source>
        <translation>双栏：7 × 3 英寸</translation>
    </message>
    <message>
        <source>As on screen</source>
        <translation>与屏幕相同</translation>
    </message>
    <message>
        <source>Column sizes lay the plot out at that size, so its fonts print at their point size.</source>
        <translation>按栏宽尺寸排版图表，使字体按其磅值打印。</translation>
    </message>
    <message>
        <source>Resolution of a PNG: text, lines and legends are drawn at it too.</source>
        <translation>PNG 的分辨率：文字、线条和图例也按此分辨率绘制。</translation>
    </message>
    <message>
        <source>Plain light (for print)</source>
        <translation>简洁浅色（用于打印）</translation>
    </message>
    <message>
        <source>As on screen (current theme)</source>
        <translation>与屏幕相同（当前主题）</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <source>Resolution</source>
        <translation>分辨率</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
</context>
<context>
    <name>Forms</name>
    <message>
        <source>{0} is not a number; type e.g. 0.1 or 2e-4</source>
        <translation>{0} 不是数字；请输入如 0.1 或 2e-4</translation>
    </message>
    <message>
        <source>Choose a folder</source>
        <translation>选择文件夹</translation>
    </message>
    <message>
        <source>Choose a file</source>
        <translation>选择文件</translation>
    </message>
    <message>
        <source>type a ratio such as 100, or a factor such as 0.01</source>
        <translation>输入不平衡比（如 100）或不平衡因子（如 0.01）</translation>
    </message>
    <message>
        <source>must be positive</source>
        <translation>必须为正数</translation>
    </message>
    <message>
        <source>ratio n_max/n_min = {0} (factor {1})</source>
        <translation>不平衡比 n_max/n_min = {0}（因子 {1}）</translation>
    </message>
    <message>
        <source>Choose a checkpoint file (.pt, .pth, .tar, .ckpt)</source>
        <translation>选择检查点文件（.pt、.pth、.tar、.ckpt）</translation>
    </message>
    <message>
        <source>Checkpoints (*.pt *.pth *.tar *.ckpt);;All files (*)</source>
        <translation>检查点 (*.pt *.pth *.tar *.ckpt);;所有文件 (*)</translation>
    </message>
</context>
<context>
    <name>InferencePanel</name>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.bmp *.webp *.gif *.tif *.tiff);;All files (*)</source>
        <translation>图像 (*.png *.jpg *.jpeg *.bmp *.webp *.gif *.tif *.tiff);;所有文件 (*)</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Top-5 (probability %)</source>
        <translation>Top-5（概率 %）</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>From the checkpoint</source>
        <translation>来自检查点</translation>
    </message>
    <message>
        <source>This checkpoint names no classes; choose the dataset it was trained on under Class names to see labels instead of class numbers.</source>
        <translation>该检查点未给出类别名称；请在“类别名称”中选择它训练时使用的数据集，以显示标签而不是类别编号。</translation>
    </message>
    <message>
        <source>no image files found there; drop PNG, JPEG, BMP or WebP files, or a folder of them</source>
        <translation>那里没有图像文件；请拖入 PNG、JPEG、BMP 或 WebP 文件，或包含它们的文件夹</translation>
    </message>
    <message numerus="yes">
        <source>%n expert(s)</source>
        <translation>
            <numerusform>%n 个专家</numerusform>
        </translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Checkpoint</source>
        <translation>检查点</translation>
    </message>
    <message>
        <source>The trained model: best/last checkpoints of recent runs, the pretrained folders, or any file via “…”.</source>
        <translation>已训练的模型：最近运行的 best/last 检查点、预训练文件夹中的文件，或通过“…”选择的任意文件。</translation>
    </message>
    <message>
        <source>(choose a model)</source>
        <translation>（选择一个模型）</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>网络结构</translation>
    </message>
    <message>
        <source>Read from the checkpoint when it can tell; pick one only for a foreign file whose depth cannot be inferred.</source>
        <translation>检查点能说明时从中读取；仅当外部文件无法推断深度时才需选择。</translation>
    </message>
    <message>
        <source>Class names</source>
        <translation>类别名称</translation>
    </message>
    <message>
        <source>Where the label names come from: the checkpoint&apos;s metadata, or the dataset the model was trained on (for plain state dicts without names).</source>
        <translation>标签名称的来源：检查点的元数据，或模型训练时使用的数据集（用于不含名称的普通 state dict）。</translation>
    </message>
    <message>
        <source>Drop images here, or use Open images… / Open folder….</source>
        <translation>把图像拖到这里，或使用“打开图像…”/“打开文件夹…”。</translation>
    </message>
    <message>
        <source>Open images…</source>
        <translation>打开图像…</translation>
    </message>
    <message>
        <source>Predict one or many image files (PNG, JPEG, BMP, WebP; any size).</source>
        <translation>预测一个或多个图像文件（PNG、JPEG、BMP、WebP；任意尺寸）。</translation>
    </message>
    <message>
        <source>Open folder…</source>
        <translation>打开文件夹…</translation>
    </message>
    <message>
        <source>Predict every image file in a folder and its sub-folders.</source>
        <translation>预测文件夹及其子文件夹中的所有图像文件。</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Save the table (file, top-5 labels and probabilities) as CSV.</source>
        <translation>把表格（文件、Top-5 标签和概率）保存为 CSV。</translation>
    </message>
    <message>
        <source>Drop image files or a folder here

PNG · JPEG · BMP · WebP, any size; grey, RGBA and 16-bit images are converted</source>
        <translation>把图像文件或文件夹拖到这里

PNG · JPEG · BMP · WebP，任意尺寸；灰度、RGBA 和 16 位图像会自动转换</translation>
    </message>
    <message>
        <source>Images to classify</source>
        <translation>要分类的图像</translation>
    </message>
    <message>
        <source>Folder of images to classify</source>
        <translation>要分类的图像文件夹</translation>
    </message>
    <message>
        <source>choose a model (a checkpoint) first, then drop the images again</source>
        <translation>请先选择模型（检查点），再重新拖入图像</translation>
    </message>
    <message>
        <source>The engine is still loading; the images are predicted as soon as it is ready.</source>
        <translation>引擎仍在加载；加载完成后立即预测这些图像。</translation>
    </message>
    <message>
        <source>Loading {0}…</source>
        <translation>正在加载 {0}…</translation>
    </message>
    <message>
        <source>Prediction</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Predicting…</source>
        <translation>正在预测…</translation>
    </message>
    <message>
        <source>Model: {0}</source>
        <translation>模型：{0}</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) predicted</source>
        <translation>
            <numerusform>已预测 %n 张图像</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>; %n could not be read (see Message)</source>
        <translation>
            <numerusform>；%n 张无法读取（见“消息”列）</numerusform>
        </translation>
    </message>
    <message>
        <source>No model loaded: {0}</source>
        <translation>未加载模型：{0}</translation>
    </message>
    <message>
        <source>Export predictions</source>
        <translation>导出预测结果</translation>
    </message>
</context>
<context>
    <name>Language</name>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
</context>
<context>
    <name>LanguageMenu</name>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>The language changes when Long-Tail Studio starts again. Restart now?</source>
        <translation>语言将在 Long-Tail Studio 重新启动后生效。现在重新启动吗？</translation>
    </message>
</context>
<context>
    <name>LogPane</name>
    <message>
        <source>Messages from the engine appear here.</source>
        <translation>引擎的消息显示在这里。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>&lt;h3&gt;Long-Tail Studio&lt;/h3&gt;
&lt;p&gt;Train, repair and inspect long-tailed image classifiers, after &lt;i&gt;No One Left Behind: Improving the
Worst Categories in Long-Tailed Learning&lt;/i&gt; (Du &amp;amp; Wu, CVPR 2023, arXiv 2303.03630).&lt;/p&gt;
&lt;p&gt;Beside accuracy it reports the harmonic mean (HM), the geometric mean (GM) and the lowest recall (LR)
of the per-class recalls, and re-trains a pretrained model&apos;s classifier with the Geometric Mean Loss.&lt;/p&gt;
&lt;p&gt;Workspace: {workspace}&lt;br&gt;Log: {log}&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Long-Tail Studio&lt;/h3&gt;
&lt;p&gt;训练、修复和检查长尾图像分类器，依据 &lt;i&gt;No One Left Behind: Improving the
Worst Categories in Long-Tailed Learning&lt;/i&gt;（Du &amp;amp; Wu，CVPR 2023，arXiv 2303.03630）。&lt;/p&gt;
&lt;p&gt;除准确率外，它还报告各类召回率的调和平均 (HM)、几何平均 (GM) 和最低召回率 (LR)，
并用几何平均损失 (GML) 对预训练模型的分类器进行重训练。&lt;/p&gt;
&lt;p&gt;工作区：{workspace}&lt;br&gt;日志：{log}&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Train</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Inference</source>
        <translation>推理</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>Runs</source>
        <translation>运行记录</translation>
    </message>
    <message>
        <source>Device: loading the engine…</source>
        <translation>设备：正在加载引擎…</translation>
    </message>
    <message>
        <source>Where training and prediction run.</source>
        <translation>训练和预测运行的位置。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;run folder…</source>
        <translation>打开运行文件夹(&amp;R)…</translation>
    </message>
    <message>
        <source>Show a saved run&apos;s curves, per-class recall and settings on the Train page (Resume continues it).</source>
        <translation>在训练页显示已保存运行的曲线、各类召回率和设置（“继续”可接着训练）。</translation>
    </message>
    <message>
        <source>Open &amp;checkpoint…</source>
        <translation>打开检查点(&amp;C)…</translation>
    </message>
    <message>
        <source>Use a checkpoint file on the Inference page.</source>
        <translation>在推理页使用检查点文件。</translation>
    </message>
    <message>
        <source>Open s&amp;weep folder…</source>
        <translation>打开扫描文件夹(&amp;W)…</translation>
    </message>
    <message>
        <source>Watch a sweep (main.py sweep) fill its table; a cell opens its runs in Compare.</source>
        <translation>查看扫描（main.py sweep）填充其表格；单元格会在“比较”页打开其运行。</translation>
    </message>
    <message>
        <source>Export &amp;figures…</source>
        <translation>导出图表(&amp;F)…</translation>
    </message>
    <message>
        <source>Save the current page&apos;s plots as PNG (at a chosen DPI), SVG or PDF, plain light or as shown.</source>
        <translation>将当前页的图表保存为 PNG（按所选 DPI）、SVG 或 PDF，可选简洁浅色或与屏幕相同。</translation>
    </message>
    <message>
        <source>Export &amp;metrics table…</source>
        <translation>导出指标表(&amp;M)…</translation>
    </message>
    <message>
        <source>Save the current page&apos;s numbers as CSV, Markdown or LaTeX.</source>
        <translation>将当前页的数字保存为 CSV、Markdown 或 LaTeX。</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Theme</source>
        <translation>主题(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About Long-Tail Studio</source>
        <translation>关于 Long-Tail Studio(&amp;A)</translation>
    </message>
    <message>
        <source>Device: {0}</source>
        <translation>设备：{0}</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Device: engine unavailable</source>
        <translation>设备：引擎不可用</translation>
    </message>
    <message>
        <source>Loading the engine</source>
        <translation>加载引擎</translation>
    </message>
    <message>
        <source>Open a run folder</source>
        <translation>打开运行文件夹</translation>
    </message>
    <message>
        <source>Open a sweep folder</source>
        <translation>打开扫描文件夹</translation>
    </message>
    <message>
        <source>Open a checkpoint</source>
        <translation>打开检查点</translation>
    </message>
    <message>
        <source>Export figures</source>
        <translation>导出图表</translation>
    </message>
    <message>
        <source>This page has no plots; use Export metrics table.</source>
        <translation>此页没有图表；请使用“导出指标表”。</translation>
    </message>
    <message>
        <source>Export figures (one file per plot)</source>
        <translation>导出图表（每个图一个文件）</translation>
    </message>
    <message>
        <source>Exported {0} figure(s) to {1}</source>
        <translation>已导出 {0} 张图表到 {1}</translation>
    </message>
    <message>
        <source>Export the metrics table</source>
        <translation>导出指标表</translation>
    </message>
    <message>
        <source>Exported {0}</source>
        <translation>已导出 {0}</translation>
    </message>
    <message>
        <source>About Long-Tail Studio</source>
        <translation>关于 Long-Tail Studio</translation>
    </message>
    <message>
        <source>A task is running</source>
        <translation>任务正在运行</translation>
    </message>
    <message>
        <source>A task is still running. Stop it and quit?

Training stops after the current batch; the checkpoint of the last finished epoch is kept, and Resume can continue the run later.</source>
        <translation>仍有任务在运行。停止并退出吗？

训练会在当前批次之后停止；保留最后完成的一轮的检查点，之后可用“继续”接着训练。</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
</context>
<context>
    <name>MethodParams</name>
    <message>
        <source>{0!r} is not a finite number; the default is {1}</source>
        <translation>{0!r} 不是有限数值；默认值为 {1}</translation>
    </message>
    <message>
        <source>Default: {0}.</source>
        <translation>默认值：{0}。</translation>
    </message>
</context>
<context>
    <name>PredictionDetail</name>
    <message>
        <source>no image</source>
        <translation>无图像</translation>
    </message>
    <message>
        <source>cannot read</source>
        <translation>无法读取</translation>
    </message>
    <message>
        <source>{0} called by the router</source>
        <translation>路由器调用了 {0}</translation>
    </message>
    <message>
        <source>n/a</source>
        <translation>无</translation>
    </message>
</context>
<context>
    <name>ProgressLine</name>
    <message>
        <source>training</source>
        <translation>训练中</translation>
    </message>
    <message>
        <source>evaluating</source>
        <translation>评估中</translation>
    </message>
    <message>
        <source>extracting features</source>
        <translation>提取特征中</translation>
    </message>
    <message>
        <source>tuning</source>
        <translation>重训练中</translation>
    </message>
    <message>
        <source>predicting</source>
        <translation>预测中</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source> · {0} left</source>
        <translation> · 剩余 {0}</translation>
    </message>
    <message>
        <source>{0} · stage {1}</source>
        <translation>{0} · 阶段 {1}</translation>
    </message>
    <message>
        <source>{0} · image {1}/{2}{3}</source>
        <translation>{0} · 图像 {1}/{2}{3}</translation>
    </message>
    <message>
        <source>{0} · pass {1}/{2} · batch {3}/{4}{5}</source>
        <translation>{0} · 第 {1}/{2} 遍 · 批次 {3}/{4}{5}</translation>
    </message>
    <message>
        <source>{0} · epoch {1}/{2} · batch {3}/{4}{5}</source>
        <translation>{0} · 第 {1}/{2} 轮 · 批次 {3}/{4}{5}</translation>
    </message>
</context>
<context>
    <name>RunsPanel</name>
    <message>
        <source>Any status</source>
        <translation>任意状态</translation>
    </message>
    <message>
        <source>Finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>Interrupted (its writer was killed)</source>
        <translation>已中断（写入进程被终止）</translation>
    </message>
    <message>
        <source>Diverged</source>
        <translation>已发散</translation>
    </message>
    <message>
        <source>Damaged (files cannot be read)</source>
        <translation>已损坏（文件无法读取）</translation>
    </message>
    <message>
        <source>Incomplete (older runs)</source>
        <translation>不完整（旧版运行）</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <source>diverged</source>
        <translation>已发散</translation>
    </message>
    <message>
        <source>damaged</source>
        <translation>已损坏</translation>
    </message>
    <message>
        <source>incomplete</source>
        <translation>不完整</translation>
    </message>
    <message>
        <source>Filter: method, dataset, name, status…</source>
        <translation>筛选：方法、数据集、名称、状态…</translation>
    </message>
    <message>
        <source>Add folders…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>List run folders from elsewhere (e.g. copied from a server).</source>
        <translation>列出其他位置的运行文件夹（例如从服务器复制来的）。</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Read the run folders again.</source>
        <translation>重新读取运行文件夹。</translation>
    </message>
    <message>
        <source>Test metrics of each run&apos;s last epoch (plug-in runs: the ensemble, else the new classifier), as Compare and the sweep table show them; a run&apos;s card (README.md) also lists its best epoch. Epochs count every stage. Select two runs to see what differs.</source>
        <translation>各运行最后一轮的测试指标（插件运行：集成，否则为新分类器），与“比较”页和扫描表中显示的一致；运行卡片（README.md）还列出其最佳一轮。轮数包含所有阶段。选择两个运行可查看差异。</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Show the run&apos;s settings here; a training run also opens on the Train page (its curves, per-class views; Resume continues it).</source>
        <translation>在此显示运行的设置；训练运行还会在训练页打开（其曲线、各类视图；“继续”可接着训练）。</translation>
    </message>
    <message>
        <source>Compare selected</source>
        <translation>比较所选</translation>
    </message>
    <message>
        <source>Overlay the selected runs on the Compare page.</source>
        <translation>在比较页叠加显示所选运行。</translation>
    </message>
    <message>
        <source>Diff settings</source>
        <translation>比较设置</translation>
    </message>
    <message>
        <source>Show the settings that differ between the two selected runs.</source>
        <translation>显示两个所选运行之间不同的设置。</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Select a run to see every setting it ran with; select two to see what differs.</source>
        <translation>选择一个运行可查看其全部设置；选择两个可查看差异。</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>Imbalance</source>
        <translation>不平衡比</translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation>训练轮数</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Acc % (last)</source>
        <translation>Acc %（最后一轮）</translation>
    </message>
    <message>
        <source>HM % (last)</source>
        <translation>HM %（最后一轮）</translation>
    </message>
    <message>
        <source>GM % (last)</source>
        <translation>GM %（最后一轮）</translation>
    </message>
    <message>
        <source>LR % (last)</source>
        <translation>LR %（最后一轮）</translation>
    </message>
    <message>
        <source>Zero recall (last)</source>
        <translation>零召回（最后一轮）</translation>
    </message>
    <message>
        <source>{0} stages: {1}</source>
        <translation>{0} 个阶段：{1}</translation>
    </message>
    <message>
        <source>Add run folders</source>
        <translation>添加运行文件夹</translation>
    </message>
    <message>
        <source>{0} is damaged</source>
        <translation>{0} 已损坏</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Settings of {0} (plug-in run)</source>
        <translation>{0} 的设置（插件运行）</translation>
    </message>
    <message>
        <source>Settings of {0} (training run)</source>
        <translation>{0} 的设置（训练运行）</translation>
    </message>
    <message>
        <source>Setting</source>
        <translation>设置项</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message numerus="yes">
        <source>%n setting(s) differ between {0} and {1}</source>
        <translation>
            <numerusform>{0} 与 {1} 之间有 %n 项设置不同</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>Which images to use. The demo set is bundled handwritten digits and needs no download; CIFAR is downloaded once into the data path (or read from there). ImageNet-LT, Places-LT, iNaturalist 2018, image lists and image trees are streamed from disk by decoding workers.</source>
        <translation>使用哪些图像。演示数据集是随附的手写数字，无需下载；CIFAR 会下载一次到数据路径（或从那里读取）。ImageNet-LT、Places-LT、iNaturalist 2018、图像列表和图像目录树由解码进程从磁盘流式读取。</translation>
    </message>
    <message>
        <source>Demo digits (bundled, offline)</source>
        <translation>演示手写数字（随附，离线）</translation>
    </message>
    <message>
        <source>CIFAR-10</source>
        <translation>CIFAR-10</translation>
    </message>
    <message>
        <source>CIFAR-100</source>
        <translation>CIFAR-100</translation>
    </message>
    <message>
        <source>Image folder (class sub-folders, held in memory)</source>
        <translation>图像文件夹（每类一个子文件夹，载入内存）</translation>
    </message>
    <message>
        <source>ImageNet-LT (1,000 classes, streamed)</source>
        <translation>ImageNet-LT（1,000 类，流式读取）</translation>
    </message>
    <message>
        <source>Places-LT (365 classes, streamed)</source>
        <translation>Places-LT（365 类，流式读取）</translation>
    </message>
    <message>
        <source>iNaturalist 2018 (8,142 classes, streamed)</source>
        <translation>iNaturalist 2018（8,142 类，流式读取）</translation>
    </message>
    <message>
        <source>Image lists (path label, streamed)</source>
        <translation>图像列表（路径 标签，流式读取）</translation>
    </message>
    <message>
        <source>Image tree (train/ test/ class folders, streamed)</source>
        <translation>图像目录树（train/ test/ 下按类分文件夹，流式读取）</translation>
    </message>
    <message>
        <source>Data path</source>
        <translation>数据路径</translation>
    </message>
    <message>
        <source>Folder that holds the dataset: CIFAR&apos;s python pickles, your image folder with one sub-folder per class, or the root the large benchmarks&apos; lists name their images from (ImageNet_LT_*.txt, Places_LT_*.txt, iNaturalist18_*.txt or train2018.json). Empty: the workspace&apos;s datasets/ folder (datasets/&lt;name&gt; for the streamed ones).</source>
        <translation>存放数据集的文件夹：CIFAR 的 Python pickle 文件、每类一个子文件夹的图像文件夹，或大型基准的列表文件（ImageNet_LT_*.txt、Places_LT_*.txt、iNaturalist18_*.txt 或 train2018.json）中图像路径的根目录。留空：工作区的 datasets/ 文件夹（流式数据集为 datasets/&lt;名称&gt;）。</translation>
    </message>
    <message>
        <source>workspace datasets/ folder</source>
        <translation>工作区的 datasets/ 文件夹</translation>
    </message>
    <message>
        <source>Imbalance type</source>
        <translation>不平衡类型</translation>
    </message>
    <message>
        <source>How the balanced training set is cut into a long-tailed one: exp lowers the count exponentially from class to class (LDAM-DRW); step keeps half the classes large and cuts the other half to n_max/ratio; none keeps the set as it is. A command line that names only the dataset gets its own type: exp for CIFAR and the demo, none for every other dataset (the large benchmarks&apos; official lists are long-tailed already).</source>
        <translation>如何把平衡的训练集裁剪为长尾训练集：exp 让各类样本数按指数逐类递减（LDAM-DRW）；step 保留一半类别的样本数，另一半裁剪到 n_max/不平衡比；none 保持原样。命令行只指定数据集时使用该数据集自己的类型：CIFAR 和演示数据集为 exp，其他数据集为 none（大型基准的官方列表本身已是长尾的）。</translation>
    </message>
    <message>
        <source>exp: counts fall exponentially</source>
        <translation>exp：样本数按指数递减</translation>
    </message>
    <message>
        <source>step: half the classes are few-shot</source>
        <translation>step：一半类别为少数类</translation>
    </message>
    <message>
        <source>none: keep the balanced set</source>
        <translation>none：保持平衡的数据集</translation>
    </message>
    <message>
        <source>Imbalance</source>
        <translation>不平衡比</translation>
    </message>
    <message>
        <source>How long the tail is. Type the ratio n_max/n_min (100) or the seed&apos;s imbalance factor n_min/n_max (0.01): both mean the largest class has 100× the images of the smallest.</source>
        <translation>长尾有多长。输入不平衡比 n_max/n_min（100）或原项目的不平衡因子 n_min/n_max（0.01）：两者都表示最大类的图像数是最小类的 100 倍。</translation>
    </message>
    <message>
        <source>Image size</source>
        <translation>图像尺寸</translation>
    </message>
    <message>
        <source>Side of the square images the model sees, in pixels. 0: the dataset&apos;s own (32 for CIFAR, the demo and folders; 224 for the streamed datasets, resized to 256 and centre-cropped for evaluation).</source>
        <translation>模型看到的正方形图像边长（像素）。0：使用数据集自身的尺寸（CIFAR、演示数据集和图像文件夹为 32；流式数据集为 224，评估时缩放到 256 后中心裁剪）。</translation>
    </message>
    <message>
        <source>Held-out share</source>
        <translation>留出比例</translation>
    </message>
    <message>
        <source>Test share of an image folder without a test/ sub-folder.</source>
        <translation>没有 test/ 子文件夹的图像文件夹中用作测试集的比例。</translation>
    </message>
    <message>
        <source>Augment</source>
        <translation>数据增强</translation>
    </message>
    <message>
        <source>Random crop (4-pixel padding) and horizontal flip of the training images; RandomResizedCrop and flip when streamed.</source>
        <translation>对训练图像做随机裁剪（4 像素填充）和水平翻转；流式数据集使用 RandomResizedCrop 和翻转。</translation>
    </message>
    <message>
        <source>Colour jitter</source>
        <translation>颜色抖动</translation>
    </message>
    <message>
        <source>Streamed datasets: ColorJitter(j, j, j, 0) after the crop (0.4 in the recipes that use it; 0: none).</source>
        <translation>流式数据集：裁剪后做 ColorJitter(j, j, j, 0)（使用它的配方取 0.4；0：不做）。</translation>
    </message>
    <message>
        <source>Loader workers</source>
        <translation>加载进程数</translation>
    </message>
    <message>
        <source>Streamed datasets: decoding processes, at most the CPUs this process may use (0: decode in the training process).</source>
        <translation>流式数据集：解码进程数，最多为本进程可用的 CPU 数（0：在训练进程中解码）。</translation>
    </message>
    <message>
        <source>Cut seed</source>
        <translation>裁剪种子</translation>
    </message>
    <message>
        <source>Seed of the long-tailed cut (and of an image folder&apos;s held-out split): which images of each class are kept. 0 keeps the subset LDAM-DRW, MiSLAS, RIDE and PaCo train on, whatever the training seed.</source>
        <translation>长尾裁剪（以及图像文件夹留出集划分）的随机种子：决定每类保留哪些图像。0 保留 LDAM-DRW、MiSLAS、RIDE 和 PaCo 训练所用的子集，与训练种子无关。</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>网络结构</translation>
    </message>
    <message>
        <source>The network: the CIFAR ResNets (ResNet-32 is the CIFAR paper setting) or torchvision&apos;s ImageNet ResNets for the large benchmarks. With a pretrained model it must match the checkpoint; the plug-in reads it from the checkpoint when the file says.</source>
        <translation>网络：CIFAR 版 ResNet（ResNet-32 是论文的 CIFAR 设置），或用于大型基准的 torchvision ImageNet 版 ResNet。使用预训练模型时必须与检查点一致；检查点文件中写明时，插件从检查点读取。</translation>
    </message>
    <message>
        <source>ResNet-20</source>
        <translation>ResNet-20</translation>
    </message>
    <message>
        <source>ResNet-32</source>
        <translation>ResNet-32</translation>
    </message>
    <message>
        <source>ResNet-44</source>
        <translation>ResNet-44</translation>
    </message>
    <message>
        <source>ResNet-56</source>
        <translation>ResNet-56</translation>
    </message>
    <message>
        <source>ResNet-110</source>
        <translation>ResNet-110</translation>
    </message>
    <message>
        <source>ResNet-10 (ImageNet)</source>
        <translation>ResNet-10（ImageNet）</translation>
    </message>
    <message>
        <source>ResNet-50 (ImageNet)</source>
        <translation>ResNet-50（ImageNet）</translation>
    </message>
    <message>
        <source>ResNeXt-50 (32×4d, ImageNet)</source>
        <translation>ResNeXt-50（32×4d，ImageNet）</translation>
    </message>
    <message>
        <source>ResNet-152 (ImageNet)</source>
        <translation>ResNet-152（ImageNet）</translation>
    </message>
    <message>
        <source>Pretrained model</source>
        <translation>预训练模型</translation>
    </message>
    <message>
        <source>Checkpoint to start from: files in the pretrained folders, or any file via “…”. Foreign state dicts (DataParallel “module.”, “fc.”) are remapped automatically; a torchvision ImageNet weights file (e.g. resnet152-394f9c45.pth) initialises the trunk of an ImageNet architecture.</source>
        <translation>起始检查点：预训练文件夹中的文件，或通过“…”选择的任意文件。外部的 state dict（DataParallel 的“module.”、“fc.”）会自动重映射；torchvision 的 ImageNet 权重文件（如 resnet152-394f9c45.pth）用于初始化 ImageNet 网络结构的主干。</translation>
    </message>
    <message>
        <source>Pretrained</source>
        <translation>预训练</translation>
    </message>
    <message>
        <source>Freeze features: keep a pretrained backbone and re-train only its classifier with the loss (the paper&apos;s GML plug-in, with the plug-in settings). Train the last block: only the trunk&apos;s last residual block, its BatchNorm layers and the heads train (PaCo&apos;s Places-LT fine-tuning of an ImageNet ResNet). Freeze all: train nothing, evaluate the pretrained model.</source>
        <translation>冻结特征：保留预训练的骨干网络，只用所选损失重训练其分类器（论文的 GML 插件，使用插件设置）。训练最后一个块：只训练主干的最后一个残差块、其 BatchNorm 层和分类头（PaCo 在 Places-LT 上微调 ImageNet ResNet 的做法）。全部冻结：不训练，只评估预训练模型。</translation>
    </message>
    <message>
        <source>None: train every layer</source>
        <translation>不冻结：训练所有层</translation>
    </message>
    <message>
        <source>Freeze features: re-train the classifier (plug-in)</source>
        <translation>冻结特征：重训练分类器（插件）</translation>
    </message>
    <message>
        <source>Train the last block, BatchNorm and heads</source>
        <translation>训练最后一个块、BatchNorm 和分类头</translation>
    </message>
    <message>
        <source>Freeze all parameters: evaluate only</source>
        <translation>冻结全部参数：仅评估</translation>
    </message>
    <message>
        <source>Loss type</source>
        <translation>损失类型</translation>
    </message>
    <message>
        <source>The method: its loss, model and stages (for the plug-in: the loss that re-trains the classifier; GML is the paper&apos;s).</source>
        <translation>方法：其损失、模型和阶段（对插件而言：重训练分类器所用的损失；GML 是论文提出的）。</translation>
    </message>
    <message>
        <source>Cross-entropy (CE)</source>
        <translation>交叉熵 (CE)</translation>
    </message>
    <message>
        <source>Balanced softmax CE (BSCE)</source>
        <translation>平衡 Softmax 交叉熵 (BSCE)</translation>
    </message>
    <message>
        <source>Focal loss</source>
        <translation>Focal 损失</translation>
    </message>
    <message>
        <source>Logit-adjusted CE</source>
        <translation>Logit 调整交叉熵</translation>
    </message>
    <message>
        <source>LDAM (cosine head)</source>
        <translation>LDAM（余弦分类头）</translation>
    </message>
    <message>
        <source>LADE</source>
        <translation>LADE</translation>
    </message>
    <message>
        <source>Feature-balanced loss (FeaBal)</source>
        <translation>特征平衡损失 (FeaBal)</translation>
    </message>
    <message>
        <source>Geometric mean loss (GML)</source>
        <translation>几何平均损失 (GML)</translation>
    </message>
    <message>
        <source>MiSLAS (mixup, then label-aware smoothing)</source>
        <translation>MiSLAS（先 mixup，再标签感知平滑）</translation>
    </message>
    <message>
        <source>Parametric contrastive learning (PaCo)</source>
        <translation>参数化对比学习 (PaCo)</translation>
    </message>
    <message>
        <source>RIDE (3 experts)</source>
        <translation>RIDE（3 个专家）</translation>
    </message>
    <message>
        <source>RIDE teacher (6 experts)</source>
        <translation>RIDE 教师模型（6 个专家）</translation>
    </message>
    <message>
        <source>RIDE + distillation</source>
        <translation>RIDE + 蒸馏</translation>
    </message>
    <message>
        <source>cRT: re-train the classifier</source>
        <translation>cRT：分类器重训练</translation>
    </message>
    <message>
        <source>LWS: learnable weight scaling</source>
        <translation>LWS：可学习的权重缩放</translation>
    </message>
    <message>
        <source>τ-norm: normalised weights</source>
        <translation>τ-norm：权重归一化</translation>
    </message>
    <message>
        <source>WB: weight balancing, stage 2</source>
        <translation>WB：权重平衡，第 2 阶段</translation>
    </message>
    <message>
        <source>Hyperparameters</source>
        <translation>超参数</translation>
    </message>
    <message>
        <source>The method&apos;s hyperparameters, preset to its paper&apos;s values; only values that differ from the defaults are stored.</source>
        <translation>方法的超参数，预设为其论文中的取值；只保存与默认值不同的值。</translation>
    </message>
    <message>
        <source>Stages</source>
        <translation>阶段</translation>
    </message>
    <message>
        <source>Run only these stages of the method (e.g. mislas: classifier, ride: router, on a pretrained checkpoint); empty: all.</source>
        <translation>只运行方法的这些阶段（例如在预训练检查点上运行 mislas: classifier、ride: router）；留空：全部阶段。</translation>
    </message>
    <message>
        <source>Train rule</source>
        <translation>训练规则</translation>
    </message>
    <message>
        <source>How the long tail is countered while training: Resample draws classes equally often, Reweight weights the loss by the effective number of samples, DRW switches that weighting on at the first learning-rate decay.</source>
        <translation>训练时如何应对长尾：重采样让各类被抽到的频率相同，重加权按有效样本数对损失加权，DRW 在学习率第一次衰减时开启该加权。</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Resample (class-balanced sampling)</source>
        <translation>重采样（类别平衡采样）</translation>
    </message>
    <message>
        <source>Reweight (effective number)</source>
        <translation>重加权（有效样本数）</translation>
    </message>
    <message>
        <source>DRW (deferred re-weighting)</source>
        <translation>DRW（延迟重加权）</translation>
    </message>
    <message>
        <source>Reweight β</source>
        <translation>重加权 β</translation>
    </message>
    <message>
        <source>Effective-number β of Reweight and DRW.</source>
        <translation>重加权和 DRW 的有效样本数 β。</translation>
    </message>
    <message>
        <source>Teacher model</source>
        <translation>教师模型</translation>
    </message>
    <message>
        <source>Distillation only (RIDE + distillation): the trained teacher whose expert mean the student learns from, e.g. a “RIDE teacher (6 experts)” run&apos;s checkpoint.</source>
        <translation>仅用于蒸馏（RIDE + 蒸馏）：已训练的教师模型，学生模型学习其专家平均输出，例如一次“RIDE 教师模型（6 个专家）”运行的检查点。</translation>
    </message>
    <message>
        <source>DRW epoch</source>
        <translation>DRW 起始轮</translation>
    </message>
    <message>
        <source>DRW&apos;s class weights apply from this 1-based epoch on (0: the first learning-rate decay, LDAM-DRW&apos;s rule; RIDE&apos;s large-benchmark recipes set it).</source>
        <translation>DRW 的类别权重从这一轮（从 1 计数）开始生效（0：学习率第一次衰减时，LDAM-DRW 的规则；RIDE 的大型基准配方会设置它）。</translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation>训练轮数</translation>
    </message>
    <message>
        <source>Passes over the training set (for the plug-in: classifier re-training epochs; 0 there evaluates the old model only).</source>
        <translation>遍历训练集的次数（对插件而言：分类器重训练的轮数；为 0 时只评估原模型）。</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>Images per optimisation step: the global batch, shared among the processes of a run on several GPUs (its learning rate is that of the global batch; docs/distributed.md).</source>
        <translation>每个优化步的图像数：即全局批次，在多 GPU 运行的各进程之间分摊（学习率按全局批次设定；docs/distributed.md）。</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>The learning rate at the end of warm-up.</source>
        <translation>预热结束时的学习率。</translation>
    </message>
    <message>
        <source>Momentum</source>
        <translation>动量</translation>
    </message>
    <message>
        <source>SGD momentum: the share of the previous step carried into the next.</source>
        <translation>SGD 动量：上一步带入下一步的比例。</translation>
    </message>
    <message>
        <source>Weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <source>L2 penalty on the weights.</source>
        <translation>权重的 L2 惩罚。</translation>
    </message>
    <message>
        <source>Nesterov</source>
        <translation>Nesterov</translation>
    </message>
    <message>
        <source>Nesterov momentum (RIDE&apos;s recipe uses it; LDAM-DRW&apos;s does not).</source>
        <translation>Nesterov 动量（RIDE 的配方使用，LDAM-DRW 的不使用）。</translation>
    </message>
    <message>
        <source>Optimiser</source>
        <translation>优化器</translation>
    </message>
    <message>
        <source>SGD, Adam (which ignores momentum and Nesterov), or SAM: sharpness-aware minimisation over SGD, two forward/backward passes per step (the second at the weights moved by ρ along the gradient).</source>
        <translation>SGD、Adam（忽略动量和 Nesterov）或 SAM：基于 SGD 的锐度感知最小化，每步两次前向/反向传播（第二次在沿梯度移动 ρ 后的权重上）。</translation>
    </message>
    <message>
        <source>SGD</source>
        <translation>SGD</translation>
    </message>
    <message>
        <source>Adam</source>
        <translation>Adam</translation>
    </message>
    <message>
        <source>SAM (sharpness-aware, over SGD)</source>
        <translation>SAM（锐度感知，基于 SGD）</translation>
    </message>
    <message>
        <source>SAM ρ</source>
        <translation>SAM ρ</translation>
    </message>
    <message>
        <source>SAM&apos;s neighbourhood radius (davda/sam&apos;s default 0.05; Saddle-LongTail uses 0.8 for LDAM-DRW on CIFAR-LT). Only with the SAM optimiser.</source>
        <translation>SAM 的邻域半径（davda/sam 默认 0.05；Saddle-LongTail 在 CIFAR-LT 上对 LDAM-DRW 使用 0.8）。仅用于 SAM 优化器。</translation>
    </message>
    <message>
        <source>Adaptive SAM</source>
        <translation>自适应 SAM</translation>
    </message>
    <message>
        <source>ASAM: the neighbourhood scales with each weight&apos;s size (use a larger ρ, e.g. 2.0). Only with the SAM optimiser.</source>
        <translation>ASAM：邻域随每个权重的大小缩放（使用更大的 ρ，如 2.0）。仅用于 SAM 优化器。</translation>
    </message>
    <message>
        <source>LR schedule</source>
        <translation>学习率调度</translation>
    </message>
    <message>
        <source>How the learning rate falls over the run after warm-up: step multiplies it by each decay factor at its decay point (LDAM-DRW: ×0.01 after epoch 160 and ×0.0001 after 180 of 200); cosine falls smoothly to zero; constant keeps it.</source>
        <translation>预热后学习率在运行中如何下降：step 在每个衰减点乘以对应的衰减因子（LDAM-DRW：共 200 轮，第 160 轮后 ×0.01，第 180 轮后 ×0.0001）；cosine 平滑降到零；constant 保持不变。</translation>
    </message>
    <message>
        <source>Step: decays at fixed fractions of the run</source>
        <translation>阶梯：在运行的固定比例处衰减</translation>
    </message>
    <message>
        <source>Cosine to zero</source>
        <translation>余弦降到零</translation>
    </message>
    <message>
        <source>Constant</source>
        <translation>恒定</translation>
    </message>
    <message>
        <source>Warm-up epochs</source>
        <translation>预热轮数</translation>
    </message>
    <message>
        <source>Epochs of linear learning-rate warm-up at the start; fewer than the epochs.</source>
        <translation>开始时学习率线性预热的轮数；须少于训练轮数。</translation>
    </message>
    <message>
        <source>Decay points</source>
        <translation>衰减点</translation>
    </message>
    <message>
        <source>Step decays as fractions of the run (0.8 0.9 = epochs 160 and 180 of 200).</source>
        <translation>阶梯衰减的位置，以运行的比例表示（0.8 0.9 = 共 200 轮中的第 160 和 180 轮）。</translation>
    </message>
    <message>
        <source>Decay factors</source>
        <translation>衰减因子</translation>
    </message>
    <message>
        <source>Learning-rate factor after each decay point (LDAM-DRW 0.01 0.0001; MiSLAS 0.1 0.01).</source>
        <translation>每个衰减点之后的学习率倍数（LDAM-DRW 0.01 0.0001；MiSLAS 0.1 0.01）。</translation>
    </message>
    <message>
        <source>Plug-in sampler</source>
        <translation>插件采样器</translation>
    </message>
    <message>
        <source>How the re-training draws images: instance (every image once per epoch; GML balances classes itself), class_balanced, square_root or class_aware.</source>
        <translation>重训练如何抽取图像：instance（每轮每张图像一次；GML 自己平衡各类）、class_balanced、square_root 或 class_aware。</translation>
    </message>
    <message>
        <source>New classifier</source>
        <translation>新分类器</translation>
    </message>
    <message>
        <source>The re-trained classifier starts as a copy of the old one, or fresh.</source>
        <translation>重训练的分类器从原分类器的副本开始，或重新初始化。</translation>
    </message>
    <message>
        <source>Copy of the old classifier</source>
        <translation>原分类器的副本</translation>
    </message>
    <message>
        <source>Fresh initialisation</source>
        <translation>重新初始化</translation>
    </message>
    <message>
        <source>Ensemble</source>
        <translation>集成</translation>
    </message>
    <message>
        <source>Plug-in: also predict with ½·[softmax(z_new/t1) + softmax(z_old/t2)], averaging the re-trained and the original classifier.</source>
        <translation>插件：同时用 ½·[softmax(z_new/t1) + softmax(z_old/t2)] 预测，即平均重训练的分类器和原分类器。</translation>
    </message>
    <message>
        <source>Temperature t1</source>
        <translation>温度 t1</translation>
    </message>
    <message>
        <source>Plug-in ensemble: temperature of the new (re-trained) classifier. Higher values flatten its probabilities.</source>
        <translation>插件集成：新（重训练的）分类器的温度。值越大，其概率越平坦。</translation>
    </message>
    <message>
        <source>Temperature t2</source>
        <translation>温度 t2</translation>
    </message>
    <message>
        <source>Plug-in ensemble: temperature of the old (original) classifier.</source>
        <translation>插件集成：原分类器的温度。</translation>
    </message>
    <message>
        <source>Search temperatures</source>
        <translation>搜索温度</translation>
    </message>
    <message>
        <source>Choose t1 and t2 on a held-out split of the training data (maximising HM).</source>
        <translation>在训练数据的留出集上选择 t1 和 t2（使 HM 最大）。</translation>
    </message>
    <message>
        <source>Held-out share (search)</source>
        <translation>留出比例（搜索）</translation>
    </message>
    <message>
        <source>The share of each class held out for the temperature search.</source>
        <translation>每类留出用于温度搜索的比例。</translation>
    </message>
    <message>
        <source>Cache features</source>
        <translation>缓存特征</translation>
    </message>
    <message>
        <source>Run the frozen backbone once and re-train on cached features (off: a full forward pass per batch).</source>
        <translation>冻结的骨干网络只运行一次，在缓存的特征上重训练（关闭：每个批次完整前向传播一次）。</translation>
    </message>
    <message>
        <source>Feature passes</source>
        <translation>特征遍数</translation>
    </message>
    <message>
        <source>Augmented passes cached when augmentation is on.</source>
        <translation>开启数据增强时缓存的增强遍数。</translation>
    </message>
    <message>
        <source>MaxNorm threshold</source>
        <translation>MaxNorm 阈值</translation>
    </message>
    <message>
        <source>Weight balancing&apos;s MaxNorm on the re-trained classifier: each class&apos;s weight norm is capped at min + threshold·(max − min) of the class norms it starts from (the official rule: 0.1 is relative, not an absolute norm). 0: off.</source>
        <translation>权重平衡对重训练分类器的 MaxNorm：每类权重范数的上限为初始各类范数的 min + 阈值·(max − min)（官方规则：0.1 是相对值，不是绝对范数）。0：关闭。</translation>
    </message>
    <message>
        <source>MaxNorm after</source>
        <translation>MaxNorm 时机</translation>
    </message>
    <message>
        <source>When MaxNorm projects: after every optimiser step (the paper; the author&apos;s intent) or after each epoch (the official code).</source>
        <translation>MaxNorm 何时投影：每个优化步之后（论文；作者的本意）或每轮之后（官方代码）。</translation>
    </message>
    <message>
        <source>every step (paper)</source>
        <translation>每步（论文）</translation>
    </message>
    <message>
        <source>every epoch (official code)</source>
        <translation>每轮（官方代码）</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Training seed: initialisation, batch order and augmentation follow it, so a run can be repeated. The long-tailed subset follows the cut seed instead.</source>
        <translation>训练种子：初始化、批次顺序和数据增强都由它决定，因此运行可以复现。长尾子集则由裁剪种子决定。</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Where to train: auto uses the GPU when there is one; cpu, cuda or cuda:N.</source>
        <translation>在哪里训练：auto 在有 GPU 时使用 GPU；cpu、cuda 或 cuda:N。</translation>
    </message>
    <message>
        <source>Automatic (GPU if present)</source>
        <translation>自动（有 GPU 时用 GPU）</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>CPU threads</source>
        <translation>CPU 线程数</translation>
    </message>
    <message>
        <source>Threads for the engine on the CPU. 0: one per CPU (or OMP_NUM_THREADS when exported), fixed, so a run&apos;s numbers never depend on how busy the machine is; config.json records the count used (engine/cpu_policy.py).</source>
        <translation>引擎在 CPU 上使用的线程数。0：每个 CPU 一个（或已导出的 OMP_NUM_THREADS），且固定不变，因此运行结果不受机器繁忙程度影响；config.json 记录实际使用的线程数（engine/cpu_policy.py）。</translation>
    </message>
    <message>
        <source>GPUs</source>
        <translation>GPU 数</translation>
    </message>
    <message>
        <source>Processes this run trains with on this machine, one per GPU: data parallel (DistributedDataParallel through torchrun; NCCL on GPUs, gloo on the CPU). The batch size stays the global batch, shared among them, so the learning rate keeps its value. 1: this process alone. Under a torchrun you start yourself (several machines), torchrun&apos;s process count applies instead. docs/distributed.md.</source>
        <translation>本次运行在本机上使用的训练进程数，每个 GPU 一个：数据并行（通过 torchrun 的 DistributedDataParallel；GPU 上用 NCCL，CPU 上用 gloo）。批大小仍是全局批次，在各进程之间分摊，因此学习率保持不变。1：只用本进程。在你自己启动的 torchrun 下（多台机器），以 torchrun 的进程数为准。docs/distributed.md。</translation>
    </message>
    <message>
        <source>SyncBatchNorm</source>
        <translation>SyncBatchNorm</translation>
    </message>
    <message>
        <source>With several GPUs: BatchNorm statistics over the global batch instead of each GPU&apos;s share (GPUs only; the official code of every method here trains without it).</source>
        <translation>多 GPU 时：BatchNorm 统计量基于全局批次，而不是每个 GPU 分到的部分（仅限 GPU；这里每个方法的官方代码都不使用它）。</translation>
    </message>
    <message>
        <source>Collective timeout</source>
        <translation>集合通信超时</translation>
    </message>
    <message>
        <source>With several processes: seconds one waits for the others in a collective (the gradient all-reduce, a gather) before the run ends with an error. A process that dies ends the run at once; this bounds one that hangs.</source>
        <translation>多进程时：在集合通信（梯度 all-reduce、gather）中一个进程等待其他进程的秒数，超时后运行以错误结束。进程崩溃会立即结束运行；此设置限制进程挂起的时间。</translation>
    </message>
    <message>
        <source>Experiment name</source>
        <translation>实验名称</translation>
    </message>
    <message>
        <source>A label for the run; the run folder is named &lt;date&gt;-&lt;time&gt;-&lt;name&gt;.</source>
        <translation>运行的标签；运行文件夹命名为 &lt;日期&gt;-&lt;时间&gt;-&lt;名称&gt;。</translation>
    </message>
    <message>
        <source>e.g. cifar100-lt-gml</source>
        <translation>例如 cifar100-lt-gml</translation>
    </message>
    <message>
        <source>Log folder</source>
        <translation>日志文件夹</translation>
    </message>
    <message>
        <source>Where run folders are written (config, metrics.csv, checkpoints, run card). Empty: the workspace&apos;s runs/ folder.</source>
        <translation>运行文件夹的写入位置（配置、metrics.csv、检查点、运行卡片）。留空：工作区的 runs/ 文件夹。</translation>
    </message>
    <message>
        <source>workspace runs/ folder</source>
        <translation>工作区的 runs/ 文件夹</translation>
    </message>
    <message>
        <source>Save model</source>
        <translation>保存模型</translation>
    </message>
    <message>
        <source>Write checkpoints/last.pt every epoch and best.pt when the chosen metric improves (needed for Resume).</source>
        <translation>每轮写入 checkpoints/last.pt，所选指标提升时写入 best.pt（继续训练需要它们）。</translation>
    </message>
    <message>
        <source>Best checkpoint by</source>
        <translation>最佳检查点依据</translation>
    </message>
    <message>
        <source>Which test metric picks checkpoints/best.pt.</source>
        <translation>用哪个测试指标选出 checkpoints/best.pt。</translation>
    </message>
    <message>
        <source>HM</source>
        <translation>HM</translation>
    </message>
    <message>
        <source>GM</source>
        <translation>GM</translation>
    </message>
    <message>
        <source>Lowest recall</source>
        <translation>最低召回率</translation>
    </message>
    <message>
        <source>Top-1 accuracy</source>
        <translation>Top-1 准确率</translation>
    </message>
    <message>
        <source>Mean recall</source>
        <translation>平均召回率</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <source>auto: bf16 mixed precision where this machine measured it faster (once, then remembered), with the classifier and every convolution that is slow in bf16 here kept in fp32; else fp32. config.json records the precision used (docs/precision.md).</source>
        <translation>auto：若本机测得 bf16 混合精度更快（测一次后记住），就使用它，分类器和在本机 bf16 下较慢的卷积保持 fp32；否则用 fp32。config.json 记录实际使用的精度（docs/precision.md）。</translation>
    </message>
    <message>
        <source>Automatic (bf16 where measured faster)</source>
        <translation>自动（测得更快时用 bf16）</translation>
    </message>
    <message>
        <source>bf16 mixed precision</source>
        <translation>bf16 混合精度</translation>
    </message>
    <message>
        <source>fp32 layers</source>
        <translation>fp32 层</translation>
    </message>
    <message>
        <source>Under bf16, the modules kept in fp32 (None: the heads and the convolutions this machine measured slow in bf16). Recorded in config.json; set it there to repeat a run&apos;s choice elsewhere.</source>
        <translation>bf16 下保持 fp32 的模块（None：分类头和本机测得 bf16 下较慢的卷积）。记录在 config.json 中；在那里设置它即可在别处复现一次运行的选择。</translation>
    </message>
    <message>
        <source>Compile</source>
        <translation>编译</translation>
    </message>
    <message>
        <source>torch.compile the training step (falls back if it fails; no gain measured on CPU, engine/speed.py).</source>
        <translation>用 torch.compile 编译训练步（失败时回退；在 CPU 上未测得收益，engine/speed.py）。</translation>
    </message>
    <message>
        <source>HM/GM/LR floor</source>
        <translation>HM/GM/LR 下限</translation>
    </message>
    <message>
        <source>How HM, GM and LR treat a class at zero recall. The paper&apos;s code floors every class&apos;s recall at 0.1 % first, so the means still say how far behind the others are; 0 leaves them unfloored, and one zero-recall class makes HM and GM 0. The count of zero-recall classes is shown either way.</source>
        <translation>HM、GM 和 LR 如何处理召回率为零的类别。论文代码先把每类召回率下限设为 0.1 %，这样平均值仍能反映落后程度；0 表示不设下限，此时只要有一个零召回类别，HM 和 GM 就为 0。无论哪种设置都会显示零召回类别的数量。</translation>
    </message>
    <message>
        <source>0.1 % (the paper&apos;s code)</source>
        <translation>0.1 %（论文代码）</translation>
    </message>
    <message>
        <source>none (0 at any zero recall)</source>
        <translation>无（有零召回类别时为 0）</translation>
    </message>
    <message>
        <source>γ, focusing power of (1 − p)^γ (LDAM-DRW&apos;s CIFAR protocol: 1; focal paper: 2)</source>
        <translation>γ，(1 − p)^γ 的聚焦指数（LDAM-DRW 的 CIFAR 协议：1；Focal 论文：2）</translation>
    </message>
    <message>
        <source>τ, the strength of the prior shift log π_c added to the logits (paper: 1)</source>
        <translation>τ，加到 logits 上的先验偏移 log π_c 的强度（论文：1）</translation>
    </message>
    <message>
        <source>margin of the rarest class; the others get max_margin·(n_min/n_c)^(1/4) (paper code: 0.5)</source>
        <translation>最稀有类别的间隔；其他类别为 max_margin·(n_min/n_c)^(1/4)（论文代码：0.5）</translation>
    </message>
    <message>
        <source>s, the scale of the cosine logits in training and evaluation (paper code: 30)</source>
        <translation>s，训练和评估中余弦 logits 的缩放（论文代码：30）</translation>
    </message>
    <message>
        <source>α, weight of the LADE regulariser added to the prior CE (official CIFAR-100-LT: 0.1)</source>
        <translation>α，加到先验交叉熵上的 LADE 正则项权重（官方 CIFAR-100-LT：0.1）</translation>
    </message>
    <message>
        <source>λ of the regularised DV bound, penalising S_c² (official CIFAR-100-LT, ratio 100: 0.01)</source>
        <translation>正则化 DV 界的 λ，惩罚 S_c²（官方 CIFAR-100-LT，不平衡比 100：0.01）</translation>
    </message>
    <message>
        <source>λ, strength of the tail stimulus λ·s_c/‖f‖, ramped in as (epoch / (0.95·epochs))² (official CIFAR: 60)</source>
        <translation>λ，尾部刺激 λ·s_c/‖f‖ 的强度，按 (epoch / (0.95·epochs))² 逐渐加入（官方 CIFAR：60）</translation>
    </message>
    <message>
        <source>α of the stage-1 mixup, λ ~ Beta(α, α) (official: 1)</source>
        <translation>第 1 阶段 mixup 的 α，λ ~ Beta(α, α)（官方：1）</translation>
    </message>
    <message>
        <source>ε_1, the label smoothing of the largest class (official CIFAR-100-LT, 100: 0.4)</source>
        <translation>ε_1，最大类别的标签平滑（官方 CIFAR-100-LT，100：0.4）</translation>
    </message>
    <message>
        <source>ε_K, the label smoothing of the smallest class (official CIFAR-100-LT, 100: 0.1)</source>
        <translation>ε_K，最小类别的标签平滑（官方 CIFAR-100-LT，100：0.1）</translation>
    </message>
    <message>
        <source>how ε falls from head to tail: 0 concave (official), 1 linear, 2 convex, 3 exp</source>
        <translation>ε 从头部到尾部如何下降：0 凹（官方），1 线性，2 凸，3 指数</translation>
    </message>
    <message>
        <source>the exponent of the exp shape</source>
        <translation>指数形状的指数</translation>
    </message>
    <message>
        <source>1: re-estimate the frozen backbone&apos;s BatchNorm statistics in stage 2 (official CIFAR-100: 1, CIFAR-10: 0)</source>
        <translation>1：第 2 阶段重新估计冻结骨干网络的 BatchNorm 统计量（官方 CIFAR-100：1，CIFAR-10：0）</translation>
    </message>
    <message>
        <source>stage-2 classifier learning rate as a factor of the LWS one (official CIFAR-100-LT, 100: 0.2)</source>
        <translation>第 2 阶段分类器学习率，为 LWS 学习率的倍数（官方 CIFAR-100-LT，100：0.2）</translation>
    </message>
    <message>
        <source>epochs of stage 2 (official: 10)</source>
        <translation>第 2 阶段的训练轮数（官方：10）</translation>
    </message>
    <message>
        <source>stage-2 learning rate, cosine to 0 (official: 0.1)</source>
        <translation>第 2 阶段学习率，余弦降到 0（官方：0.1）</translation>
    </message>
    <message>
        <source>weight of same-class samples (queries, keys, queue) as positives</source>
        <translation>同类样本（查询、键、队列）作为正样本的权重</translation>
    </message>
    <message>
        <source>weight of the true class centre as a positive</source>
        <translation>真实类别中心作为正样本的权重</translation>
    </message>
    <message>
        <source>weight of the samples in the softmax normaliser (class centres weigh 1)</source>
        <translation>样本在 softmax 归一化项中的权重（类别中心权重为 1）</translation>
    </message>
    <message>
        <source>τ of the sample logits q·k/τ</source>
        <translation>样本 logits q·k/τ 中的 τ</translation>
    </message>
    <message>
        <source>divisor of the class-centre logits (+ log prior)</source>
        <translation>类别中心 logits 的除数（+ log 先验）</translation>
    </message>
    <message>
        <source>m: the key encoder moves by θ_k ← m·θ_k + (1 − m)·θ_q after each step</source>
        <translation>m：每步之后键编码器按 θ_k ← m·θ_k + (1 − m)·θ_q 更新</translation>
    </message>
    <message>
        <source>K, keys kept in the queue (any size; the queue wraps around)</source>
        <translation>K，队列中保留的键数（任意大小；队列循环覆盖）</translation>
    </message>
    <message>
        <source>dimension of the MLP projection the contrast works in</source>
        <translation>对比学习所用 MLP 投影的维度</translation>
    </message>
    <message>
        <source>1: the query view is the SimCLR view too (PaCo&apos;s Places-LT script, aug sim_sim); 0: its own view (CIFAR: AutoAugment + Cutout; ImageNet-LT, iNaturalist: RandAugment)</source>
        <translation>1：查询视图也使用 SimCLR 视图（PaCo 的 Places-LT 脚本，aug sim_sim）；0：使用自己的视图（CIFAR：AutoAugment + Cutout；ImageNet-LT、iNaturalist：RandAugment）</translation>
    </message>
    <message>
        <source>number of experts (paper code: 3; the distillation teacher has 6)</source>
        <translation>专家数量（论文代码：3；蒸馏的教师模型有 6 个）</translation>
    </message>
    <message>
        <source>LDAM margin of the rarest class (paper code: 0.5)</source>
        <translation>最稀有类别的 LDAM 间隔（论文代码：0.5）</translation>
    </message>
    <message>
        <source>s, the cosine classifiers&apos; scale, applied in the model (paper code: 30)</source>
        <translation>s，余弦分类器的缩放，在模型中应用（论文代码：30）</translation>
    </message>
    <message>
        <source>weight of the diversity KL; negative pushes experts apart (paper code: −0.45)</source>
        <translation>多样性 KL 的权重；为负时把各专家推开（论文代码：−0.45）</translation>
    </message>
    <message>
        <source>base temperature of the diversity KL (paper code: 1)</source>
        <translation>多样性 KL 的基础温度（论文代码：1）</translation>
    </message>
    <message>
        <source>per-class temperature after the reweight epoch: ∝ C·π_c·f + 1 − f (paper code: 0.05)</source>
        <translation>重加权轮之后的各类温度：∝ C·π_c·f + 1 − f（论文代码：0.05）</translation>
    </message>
    <message>
        <source>epochs of the router stage; 0 = no router (paper code: 5)</source>
        <translation>路由器阶段的训练轮数；0 = 不用路由器（论文代码：5）</translation>
    </message>
    <message>
        <source>router stage learning rate, cosine to 0 (paper code: 0.01)</source>
        <translation>路由器阶段的学习率，余弦降到 0（论文代码：0.01）</translation>
    </message>
    <message>
        <source>router stage batch size (paper code: 512)</source>
        <translation>路由器阶段的批大小（论文代码：512）</translation>
    </message>
    <message>
        <source>BCE weight of &apos;call the next expert&apos; labels: more compute, more accuracy (paper code: 100)</source>
        <translation>“调用下一个专家”标签的 BCE 权重：计算越多，准确率越高（论文代码：100）</translation>
    </message>
    <message>
        <source>the router reads the k largest running-mean logits (paper code: 30 CIFAR, 50 ImageNet-LT and iNaturalist)</source>
        <translation>路由器读取滑动平均 logits 中最大的 k 个（论文代码：CIFAR 30，ImageNet-LT 和 iNaturalist 50）</translation>
    </message>
    <message>
        <source>T_d of the distillation KL to the teacher&apos;s expert mean (paper code: 1.5)</source>
        <translation>对教师专家平均输出的蒸馏 KL 中的 T_d（论文代码：1.5）</translation>
    </message>
    <message>
        <source>weight of the distillation term (paper code: 1)</source>
        <translation>蒸馏项的权重（论文代码：1）</translation>
    </message>
    <message>
        <source>1: the whole objective × number of experts, as the official loop does; 0: plain sum</source>
        <translation>1：整个目标乘以专家数量，与官方训练循环一致；0：直接求和</translation>
    </message>
    <message>
        <source>1: teacher BatchNorm in train mode, as the official code leaves it; 0: eval mode</source>
        <translation>1：教师模型的 BatchNorm 处于训练模式，与官方代码一致；0：评估模式</translation>
    </message>
    <message>
        <source>smallest τ of the grid (official: 0, the old classifier without its bias)</source>
        <translation>网格中最小的 τ（官方：0，即去掉偏置的原分类器）</translation>
    </message>
    <message>
        <source>largest τ of the grid (official: 2)</source>
        <translation>网格中最大的 τ（官方：2）</translation>
    </message>
    <message>
        <source>grid points from tau_min to tau_max (official: 21, a step of 0.1)</source>
        <translation>从 tau_min 到 tau_max 的网格点数（官方：21，步长 0.1）</translation>
    </message>
    <message>
        <source>β of the class-balanced weights (1 − β)/(1 − β^n) (official: 0.9999)</source>
        <translation>类别平衡权重 (1 − β)/(1 − β^n) 中的 β（官方：0.9999）</translation>
    </message>
    <message>
        <source>Demo (offline, seconds)</source>
        <translation>演示（离线，几秒钟）</translation>
    </message>
    <message>
        <source>Demo · MiSLAS (both stages, seconds)</source>
        <translation>演示 · MiSLAS（两个阶段，几秒钟）</translation>
    </message>
    <message>
        <source>Demo · RIDE (3 experts + router, about a minute)</source>
        <translation>演示 · RIDE（3 个专家 + 路由器，约一分钟）</translation>
    </message>
    <message>
        <source>Demo · PaCo (two views, a few minutes)</source>
        <translation>演示 · PaCo（两个视图，几分钟）</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · CE</source>
        <translation>CIFAR-100-LT · CE</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · CE-DRW</source>
        <translation>CIFAR-100-LT · CE-DRW</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · BSCE (balanced softmax)</source>
        <translation>CIFAR-100-LT · BSCE（平衡 Softmax）</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · Focal</source>
        <translation>CIFAR-100-LT · Focal</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · LDAM-DRW</source>
        <translation>CIFAR-100-LT · LDAM-DRW</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · LADE</source>
        <translation>CIFAR-100-LT · LADE</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · FeaBal</source>
        <translation>CIFAR-100-LT · FeaBal</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · Logit adjustment</source>
        <translation>CIFAR-100-LT · Logit 调整</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · GML (from scratch)</source>
        <translation>CIFAR-100-LT · GML（从头训练）</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · MiSLAS (both stages)</source>
        <translation>CIFAR-100-LT · MiSLAS（两个阶段）</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · MiSLAS stage 2 on a checkpoint</source>
        <translation>CIFAR-100-LT · 在检查点上运行 MiSLAS 第 2 阶段</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · RIDE (3 experts)</source>
        <translation>CIFAR-100-LT · RIDE（3 个专家）</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · RIDE teacher (6 experts)</source>
        <translation>CIFAR-100-LT · RIDE 教师模型（6 个专家）</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · RIDE + distillation</source>
        <translation>CIFAR-100-LT · RIDE + 蒸馏</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · RIDE router on a checkpoint</source>
        <translation>CIFAR-100-LT · 在检查点上训练 RIDE 路由器</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · PaCo (400 epochs)</source>
        <translation>CIFAR-100-LT · PaCo（400 轮）</translation>
    </message>
    <message>
        <source>CIFAR-100-LT · WB stage 1 (CE, weight decay 5e-3, 320 epochs)</source>
        <translation>CIFAR-100-LT · WB 第 1 阶段（CE，权重衰减 5e-3，320 轮）</translation>
    </message>
    <message>
        <source>GML plug-in (re-train a checkpoint&apos;s classifier)</source>
        <translation>GML 插件（重训练检查点的分类器）</translation>
    </message>
    <message>
        <source>cRT plug-in (decoupling: a fresh classifier on class-aware batches)</source>
        <translation>cRT 插件（解耦：在类别感知批次上训练新的分类器）</translation>
    </message>
    <message>
        <source>LWS plug-in (decoupling: learn one scale per class)</source>
        <translation>LWS 插件（解耦：为每类学习一个缩放）</translation>
    </message>
    <message>
        <source>τ-norm plug-in (decoupling: normalise the classifier&apos;s weights)</source>
        <translation>τ-norm 插件（解耦：归一化分类器权重）</translation>
    </message>
    <message>
        <source>WB plug-in (weight balancing stage 2: class-balanced loss, MaxNorm)</source>
        <translation>WB 插件（权重平衡第 2 阶段：类别平衡损失，MaxNorm）</translation>
    </message>
    <message>
        <source>ImageNet-LT · CE (ResNeXt-50, 90 epochs)</source>
        <translation>ImageNet-LT · CE（ResNeXt-50，90 轮）</translation>
    </message>
    <message>
        <source>ImageNet-LT · BSCE (ResNet-10, 90 epochs)</source>
        <translation>ImageNet-LT · BSCE（ResNet-10，90 轮）</translation>
    </message>
    <message>
        <source>ImageNet-LT · LDAM-DRW (ResNet-50, 90 epochs)</source>
        <translation>ImageNet-LT · LDAM-DRW（ResNet-50，90 轮）</translation>
    </message>
    <message>
        <source>ImageNet-LT · MiSLAS (ResNet-50, 180 + 10 epochs)</source>
        <translation>ImageNet-LT · MiSLAS（ResNet-50，180 + 10 轮）</translation>
    </message>
    <message>
        <source>ImageNet-LT · RIDE (ResNeXt-50, 3 experts + router)</source>
        <translation>ImageNet-LT · RIDE（ResNeXt-50，3 个专家 + 路由器）</translation>
    </message>
    <message>
        <source>ImageNet-LT · PaCo (ResNet-50, 400 epochs)</source>
        <translation>ImageNet-LT · PaCo（ResNet-50，400 轮）</translation>
    </message>
    <message>
        <source>iNaturalist 2018 · CE (ResNet-50, 90 epochs)</source>
        <translation>iNaturalist 2018 · CE（ResNet-50，90 轮）</translation>
    </message>
    <message>
        <source>iNaturalist 2018 · BSCE (ResNet-50, 90 epochs)</source>
        <translation>iNaturalist 2018 · BSCE（ResNet-50，90 轮）</translation>
    </message>
    <message>
        <source>iNaturalist 2018 · LDAM-DRW (ResNet-50, 90 epochs)</source>
        <translation>iNaturalist 2018 · LDAM-DRW（ResNet-50，90 轮）</translation>
    </message>
    <message>
        <source>iNaturalist 2018 · MiSLAS (ResNet-50, 200 + 10 epochs)</source>
        <translation>iNaturalist 2018 · MiSLAS（ResNet-50，200 + 10 轮）</translation>
    </message>
    <message>
        <source>iNaturalist 2018 · RIDE (ResNet-50, 3 experts + router)</source>
        <translation>iNaturalist 2018 · RIDE（ResNet-50，3 个专家 + 路由器）</translation>
    </message>
    <message>
        <source>iNaturalist 2018 · PaCo (ResNet-50, 400 epochs)</source>
        <translation>iNaturalist 2018 · PaCo（ResNet-50，400 轮）</translation>
    </message>
    <message>
        <source>Places-LT · PaCo (ResNet-152 from ImageNet weights, 30 epochs)</source>
        <translation>Places-LT · PaCo（从 ImageNet 权重开始的 ResNet-152，30 轮）</translation>
    </message>
    <message>
        <source>{value} is not one of {choices}</source>
        <translation>{value} 不是可选值之一：{choices}</translation>
    </message>
    <message>
        <source>must be a number, got {value}</source>
        <translation>必须是数字，而不是 {value}</translation>
    </message>
    <message>
        <source>{value} is outside the sensible range {low} to {high}</source>
        <translation>{value} 超出合理范围 {low} 到 {high}</translation>
    </message>
</context>
<context>
    <name>SweepView</name>
    <message>
        <source>Zeros</source>
        <translation>零召回</translation>
    </message>
    <message>
        <source>Cell</source>
        <translation>单元格</translation>
    </message>
    <message>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>Ratio</source>
        <translation>不平衡比</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>pending</source>
        <translation>等待中</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <source>damaged</source>
        <translation>已损坏</translation>
    </message>
    <message>
        <source>Sweep {0} · Long-Tail Studio</source>
        <translation>扫描 {0} · Long-Tail Studio</translation>
    </message>
    <message>
        <source>Every cell of the grid; double-click one to open its base and plug-in runs in Compare. Test metrics in percent.</source>
        <translation>网格的每个单元格；双击可在比较页打开其基线和插件运行。测试指标为百分比。</translation>
    </message>
    <message>
        <source>Seeds</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Mean ± std over the finished seeds (sample std; one seed: its value alone), test split, last epoch, %. Zeros: classes at zero recall.</source>
        <translation>已完成种子的均值 ± 标准差（样本标准差；只有一个种子时为其值），测试集，最后一轮，%。零：零召回类别数。</translation>
    </message>
    <message>
        <source>Open in Compare</source>
        <translation>在比较页打开</translation>
    </message>
    <message>
        <source>Show the selected cell&apos;s runs on the Compare page.</source>
        <translation>在比较页显示所选单元格的运行。</translation>
    </message>
    <message>
        <source>Write report</source>
        <translation>写出报告</translation>
    </message>
    <message>
        <source>Write table.csv / table.md / table.tex and per-class recalls into the sweep&apos;s report/ folder.</source>
        <translation>将 table.csv / table.md / table.tex 和各类召回率写入扫描的 report/ 文件夹。</translation>
    </message>
    <message>
        <source>Run remaining cells</source>
        <translation>运行剩余单元格</translation>
    </message>
    <message>
        <source>Run the unfinished cells on this machine, one after another (finished cells are skipped, stopped ones resume).</source>
        <translation>在本机逐个运行未完成的单元格（跳过已完成的，已停止的会继续）。</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop after the current batch; the cell resumes on the next run.</source>
        <translation>在当前批次之后停止；该单元格会在下次运行时继续。</translation>
    </message>
    <message>
        <source>&lt;b&gt;{0}&lt;/b&gt; — {1}</source>
        <translation>&lt;b&gt;{0}&lt;/b&gt; — {1}</translation>
    </message>
    <message>
        <source>{0} {1}</source>
        <translation>{1} {0}</translation>
    </message>
    <message>
        <source>{0} has no finished epoch yet</source>
        <translation>{0} 还没有完成的一轮</translation>
    </message>
    <message>
        <source>Sweep table written to {0}</source>
        <translation>扫描表已写入 {0}</translation>
    </message>
    <message>
        <source>Running the sweep</source>
        <translation>运行扫描</translation>
    </message>
</context>
<context>
    <name>TableExport</name>
    <message>
        <source>{0} does not exist; choose an existing folder</source>
        <translation>{0} 不存在；请选择已有的文件夹</translation>
    </message>
    <message>
        <source>{0} is a folder; give the file a name</source>
        <translation>{0} 是文件夹；请为文件命名</translation>
    </message>
    <message>
        <source>{0} cannot be written here (no permission); choose another folder</source>
        <translation>{0} 无法写入（没有权限）；请选择其他文件夹</translation>
    </message>
    <message>
        <source>{0}: save tables as .csv, .md or .tex</source>
        <translation>{0}：表格请保存为 .csv、.md 或 .tex</translation>
    </message>
</context>
<context>
    <name>TaskPanel</name>
    <message>
        <source>Plug-in: </source>
        <translation>插件：</translation>
    </message>
    <message>
        <source>Stopping after this batch…</source>
        <translation>将在此批次之后停止…</translation>
    </message>
    <message>
        <source>Failed: {0}</source>
        <translation>失败：{0}</translation>
    </message>
    <message>
        <source>failed: {0}</source>
        <translation>失败：{0}</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
</context>
<context>
    <name>Theme</name>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
</context>
<context>
    <name>TrainForm</name>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Method hyperparameters</source>
        <translation>方法超参数</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <source>Pretrained model and ensemble</source>
        <translation>预训练模型与集成</translation>
    </message>
    <message>
        <source>Model and optimiser</source>
        <translation>模型与优化器</translation>
    </message>
    <message>
        <source>Run and output</source>
        <translation>运行与输出</translation>
    </message>
    <message>
        <source>Start epoch</source>
        <translation>起始轮</translation>
    </message>
    <message>
        <source>The epoch the next run begins at: 1 for a new run; after a stop, Resume continues after the last saved epoch. Set by the app, not typed.</source>
        <translation>下一次运行开始的轮次：新运行为 1；停止后，“继续”从最后保存的一轮之后接着训练。由应用设置，不可输入。</translation>
    </message>
    <message>
        <source>This loss has no hyperparameters.</source>
        <translation>该损失没有超参数。</translation>
    </message>
    <message>
        <source>(none: random initialisation)</source>
        <translation>（无：随机初始化）</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
</context>
<context>
    <name>TrainPanel</name>
    <message>
        <source>test top-1</source>
        <translation>测试 Top-1</translation>
    </message>
    <message>
        <source>train top-1</source>
        <translation>训练 Top-1</translation>
    </message>
    <message>
        <source>test GM</source>
        <translation>测试 GM</translation>
    </message>
    <message>
        <source>train GM</source>
        <translation>训练 GM</translation>
    </message>
    <message>
        <source>test HM</source>
        <translation>测试 HM</translation>
    </message>
    <message>
        <source>train HM</source>
        <translation>训练 HM</translation>
    </message>
    <message>
        <source>test LR</source>
        <translation>测试 LR</translation>
    </message>
    <message>
        <source>train LR</source>
        <translation>训练 LR</translation>
    </message>
    <message>
        <source>test</source>
        <translation>测试</translation>
    </message>
    <message>
        <source>train</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>train loss</source>
        <translation>训练损失</translation>
    </message>
    <message>
        <source>test loss (NLL)</source>
        <translation>测试损失 (NLL)</translation>
    </message>
    <message>
        <source>learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>Fill the fields with a named setting: the offline demo, or the CIFAR-100-LT paper setting of a method (ResNet-32, ratio 100, 200 epochs, SGD 0.1). The data path, log folder, experiment name, device and CPU threads stay yours.</source>
        <translation>用命名的预设填写各字段：离线演示，或某方法在 CIFAR-100-LT 上的论文设置（ResNet-32，不平衡比 100，200 轮，SGD 0.1）。数据路径、日志文件夹、实验名称、设备和 CPU 线程数保持你自己的设置。</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <source>Replace the fields with the chosen preset.</source>
        <translation>用所选预设替换各字段。</translation>
    </message>
    <message>
        <source>Check the fields and start a run (or the plug-in when the backbone is frozen). {0}</source>
        <translation>检查各字段并开始运行（骨干网络冻结时运行插件）。{0}</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop after the current batch; the last finished epoch&apos;s checkpoint is kept. {0}</source>
        <translation>在当前批次之后停止；保留最后完成的一轮的检查点。{0}</translation>
    </message>
    <message>
        <source>Resume…</source>
        <translation>继续…</translation>
    </message>
    <message>
        <source>Continue a stopped run from its last checkpoint, in the same run folder.</source>
        <translation>从上一个检查点继续已停止的运行，使用同一个运行文件夹。</translation>
    </message>
    <message>
        <source>Views…</source>
        <translation>视图…</translation>
    </message>
    <message>
        <source>Show a few training images beside the augmented views the chosen method trains on (PaCo: its AutoAugment query and SimCLR key).</source>
        <translation>并排显示几张训练图像和所选方法训练时使用的数据增强视图（PaCo：其 AutoAugment 查询和 SimCLR 键）。</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>What Start will run, from the fields: the epochs of every stage of the chosen method.</source>
        <translation>根据各字段，“开始”将运行的内容：所选方法每个阶段的轮数。</translation>
    </message>
    <message>
        <source>Top-1 accuracy and GM</source>
        <translation>Top-1 准确率和 GM</translation>
    </message>
    <message>
        <source>HM and lowest recall (LR)</source>
        <translation>HM 和最低召回率 (LR)</translation>
    </message>
    <message>
        <source>Classes at zero recall</source>
        <translation>零召回类别</translation>
    </message>
    <message>
        <source>classes</source>
        <translation>类别数</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>learning rate (log)</source>
        <translation>学习率（对数）</translation>
    </message>
    <message>
        <source>Left behind: test recall per class</source>
        <translation>被落下的类别：各类测试召回率</translation>
    </message>
    <message>
        <source>Left behind</source>
        <translation>被落下的类别</translation>
    </message>
    <message>
        <source>Classes</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Confusion</source>
        <translation>混淆矩阵</translation>
    </message>
    <message>
        <source>Loss and learning rate</source>
        <translation>损失和学习率</translation>
    </message>
    <message>
        <source>How many classes no test image is recognised in, per epoch: HM and LR sit at their floor while any class is at zero, this says how many.</source>
        <translation>每轮中没有任何测试图像被正确识别的类别数：只要有类别为零，HM 和 LR 就停在下限，这里显示有多少个。</translation>
    </message>
    <message>
        <source>Plug-in: {0} epochs re-training the classifier</source>
        <translation>插件：分类器重训练 {0} 轮</translation>
    </message>
    <message>
        <source>Evaluates the pretrained model; trains nothing</source>
        <translation>评估预训练模型；不训练</translation>
    </message>
    <message>
        <source>Trains {0} epochs</source>
        <translation>训练 {0} 轮</translation>
    </message>
    <message>
        <source>Trains {0} epochs in {1} stages: {2}</source>
        <translation>分 {1} 个阶段训练 {0} 轮：{2}</translation>
    </message>
    <message>
        <source>{0} {1}</source>
        <translation>{0} {1}</translation>
    </message>
    <message>
        <source>This machine has {0} GPU(s); a run on several GPUs needs at least two (one process per GPU). From a terminal, torchrun or --nproc with --device cpu runs several CPU processes (docs/distributed.md).</source>
        <translation>本机有 {0} 个 GPU；多 GPU 运行至少需要两个（每个 GPU 一个进程）。在终端中，torchrun 或 --nproc 加 --device cpu 可运行多个 CPU 进程（docs/distributed.md）。</translation>
    </message>
    <message>
        <source>preset: {0}</source>
        <translation>预设：{0}</translation>
    </message>
    <message>
        <source>cannot show the views: {0}</source>
        <translation>无法显示视图：{0}</translation>
    </message>
    <message>
        <source>Re-training the classifier (plug-in)</source>
        <translation>正在重训练分类器（插件）</translation>
    </message>
    <message>
        <source>Evaluating</source>
        <translation>正在评估</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>Resume which run folder?</source>
        <translation>继续哪个运行文件夹？</translation>
    </message>
    <message>
        <source>{0} cannot be resumed: {1}</source>
        <translation>{0} 无法继续：{1}</translation>
    </message>
    <message>
        <source>resuming</source>
        <translation>继续中</translation>
    </message>
    <message>
        <source>Resuming {0}</source>
        <translation>继续 {0}</translation>
    </message>
    <message>
        <source>{0}: loading data…</source>
        <translation>{0}：正在加载数据…</translation>
    </message>
    <message>
        <source> (stage {0})</source>
        <translation>（阶段 {0}）</translation>
    </message>
    <message>
        <source>epoch {0}/{1}{2}: test Acc {3:.2f}  HM {4:.2f}  GM {5:.2f}  LR {6:.2f}  ({7} at zero)</source>
        <translation>第 {0}/{1} 轮{2}：测试 Acc {3:.2f}  HM {4:.2f}  GM {5:.2f}  LR {6:.2f}（{7} 个为零）</translation>
    </message>
    <message>
        <source>  {0:.2f} experts/image</source>
        <translation>  每张图像 {0:.2f} 个专家</translation>
    </message>
    <message>
        <source>  ★ best</source>
        <translation>  ★ 最佳</translation>
    </message>
    <message>
        <source>{0}: test Acc {1:.2f}  HM {2:.2f}  GM {3:.2f}  LR {4:.2f}  ({5} at zero)</source>
        <translation>{0}：测试 Acc {1:.2f}  HM {2:.2f}  GM {3:.2f}  LR {4:.2f}（{5} 个为零）</translation>
    </message>
    <message>
        <source>stopped; run folder: {0}</source>
        <translation>已停止；运行文件夹：{0}</translation>
    </message>
    <message>
        <source>finished; run folder: {0}</source>
        <translation>已完成；运行文件夹：{0}</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>{0} is not a run folder (it has no config.json)</source>
        <translation>{0} 不是运行文件夹（没有 config.json）</translation>
    </message>
    <message>
        <source>opened {0}</source>
        <translation>已打开 {0}</translation>
    </message>
    <message>
        <source>Opened run: {0}</source>
        <translation>已打开的运行：{0}</translation>
    </message>
    <message>
        <source>Resume continues here</source>
        <translation>“继续”从这里接着训练</translation>
    </message>
    <message>
        <source>the run is finished: Start begins a new one</source>
        <translation>该运行已完成：“开始”会开始新的运行</translation>
    </message>
    <message>
        <source>a new run</source>
        <translation>新运行</translation>
    </message>
    <message>
        <source>test recall</source>
        <translation>测试召回率</translation>
    </message>
    <message>
        <source>Left behind · epoch {0}: {1} of {2} classes at zero recall · lowest {3:.1f} %</source>
        <translation>被落下的类别 · 第 {0} 轮：{2} 个类别中 {1} 个零召回 · 最低 {3:.1f} %</translation>
    </message>
    <message>
        <source>Left behind ({0} at zero)</source>
        <translation>被落下的类别（{0} 个为零）</translation>
    </message>
    <message>
        <source>Confusion matrix · epoch {0} · rows: true class, most → fewest images</source>
        <translation>混淆矩阵 · 第 {0} 轮 · 行：真实类别，训练图像从多到少</translation>
    </message>
</context>
<context>
    <name>ViewPreviewDialog</name>
    <message>
        <source>as stored</source>
        <translation>原样</translation>
    </message>
    <message>
        <source>crop + flip</source>
        <translation>裁剪 + 翻转</translation>
    </message>
    <message>
        <source>query: AutoAugment + Cutout</source>
        <translation>查询：AutoAugment + Cutout</translation>
    </message>
    <message>
        <source>key: SimCLR</source>
        <translation>键：SimCLR</translation>
    </message>
    <message>
        <source>What the model trains on</source>
        <translation>模型训练时看到的图像</translation>
    </message>
    <message>
        <source>class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>original</source>
        <translation>原图</translation>
    </message>
    <message>
        <source>Each view is drawn anew for every image in every epoch; these are one draw.</source>
        <translation>每一轮中每张图像的视图都会重新生成；这里展示的是其中一次。</translation>
    </message>
</context>
</TS>
