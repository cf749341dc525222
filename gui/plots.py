"""pyqtgraph plots: per-epoch curves and per-class bars. Items are created once and updated with
``setData`` / ``setOpts``; colours follow the app theme; any plot exports to PNG (at a chosen DPI),
SVG or PDF, in the current theme or a plain light one (``gui.figure_export``).

Legends sit below the axes, outside the data. Percent plots take fractions (0..1) and show
percent; value plots (loss, learning rate) show the values as they are.
"""
from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from pathlib import Path

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QCoreApplication, QPointF, QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QColor, QCursor
from PySide6.QtWidgets import QToolTip

from gui.svg_export import install as install_svg_exporter

pg.setConfigOptions(antialias=False)  # curves turn it on for themselves; bars and grids do not need it
install_svg_exporter()

# Okabe–Ito: distinguishable for colour-blind readers, readable on light and dark backgrounds.
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999")
GROUP_COLORS = {"many": "#0072B2", "medium": "#56B4E9", "few": "#E69F00"}
GROUP_WORDS = {"many": QT_TRANSLATE_NOOP("ClassBars", "many"), "medium": QT_TRANSLATE_NOOP("ClassBars", "medium"),
               "few": QT_TRANSLATE_NOOP("ClassBars", "few")}  # shown as "<word>-shot"
ZERO_COLOR = "#D55E00"
SERIES_COLORS = tuple(c for c in COLORS if c != ZERO_COLOR)  # side-by-side bars never look like a zero mark
ZERO_STUB = (-7.0, -1.5)  # where a zero-recall mark sits below the 0 % line (percent units)
_THEME = {False: ("#ffffff", "#303030", "#e4e4e4"), True: ("#1b1d20", "#d8d8d8", "#34373c")}  # bg, fg, grid
LINES_FROM = 30  # more classes than this with several series: step lines, not grouped bars
CURVE_FROM = 200  # more classes than this: one series is a recall curve with its running mean, not bars
SYMBOLS_UP_TO = 30  # points per curve drawn with a dot; longer curves are lines only
DASHES = [3, 2]  # dash and gap, in line widths: short enough to read as dashed in a legend's 20-pixel sample
HEADROOM = 104  # the percent axis runs to here: a curve at 100 % stays visible
LEGEND_ROW = 4  # PlotItem's layout: title 0, top axis 1, data 2, bottom axis 3 → the legend below
TITLE_SIZE = "10pt"

_plots: weakref.WeakSet[ThemedPlot] = weakref.WeakSet()
_dark = False


def set_dark(dark: bool) -> None:
    """Recolour every live plot (and the ones created later)."""
    global _dark
    _dark = dark
    for plot in list(_plots):
        if shiboken6.isValid(plot):  # a closed window's plots may outlive their C++ side
            plot.apply_theme()


MIN_WIDTH = 220  # two plots side by side beside the Train form fit a 1,024-pixel screen


class ThemedPlot(pg.PlotWidget):
    """A plot with axis labels, the current theme's colours and its legend below the axes.
    A percent plot has 0–100 % ticks and a fixed range; a value plot ranges over its data."""

    def __init__(self, title: str, x_label: str, y_label: str, legend_columns: int = 2, y_min: float = -5,
                 percent: bool = True, parent=None):
        super().__init__(parent)
        self.setMinimumSize(MIN_WIDTH, 180)
        self.title = title
        self.percent = percent
        self.item = self.getPlotItem()
        self.item.getAxis("bottom").setLabel(x_label)
        self.item.getAxis("left").setLabel(y_label)
        self.item.showGrid(x=True, y=True, alpha=0.2)
        self.item.getViewBox().setZValue(1)  # data above the axes' grid lines, not crossed by them
        self.item.setMenuEnabled(True)
        if percent:
            self.item.setYRange(y_min, HEADROOM, padding=0)
            self.item.getViewBox().setLimits(yMin=y_min, yMax=HEADROOM)
            self.item.getAxis("left").setTicks([[(v, str(v)) for v in range(0, 101, 20)], []])
        for axis in ("left", "bottom"):
            self.item.getAxis(axis).setStyle(maxTickLevel=0)  # major ticks and grid only: calmer, paints 2× faster
        # the legend is a row below the x axis, never on the data
        self.legend = pg.LegendItem(offset=None, labelTextSize="9pt", colCount=legend_columns, verSpacing=0,
                                    horSpacing=14)
        self.legend.setFlag(self.legend.GraphicsItemFlag.ItemIgnoresTransformations, False)  # scales in exports
        self.item.layout.addItem(self.legend, LEGEND_ROW, 1, alignment=Qt.AlignmentFlag.AlignHCenter)
        self.item.legend = self.legend  # curves created with a name join it
        _plots.add(self)
        self._light = False  # forced plain light theme (figure export)
        self.apply_theme()

    def set_title(self, title: str) -> None:
        self.title = title
        self.item.setTitle(title, color=self.colors()[1], size=TITLE_SIZE)

    def colors(self) -> tuple[str, str, str]:
        """(background, foreground, grid) of the theme this plot is drawn in."""
        return _THEME[_dark and not self._light]

    def set_light(self, light: bool) -> None:
        """Draw in the plain light theme whatever the app's (figure export), or back."""
        self._light = light
        self.apply_theme()

    def apply_theme(self) -> None:
        background, foreground, _grid = self.colors()
        self.setBackground(background)
        self.set_title(self.title)
        for name in ("left", "bottom"):
            axis = self.item.getAxis(name)
            axis.setPen(pg.mkPen(foreground))
            axis.setTextPen(pg.mkPen(foreground))
            axis.label.setDefaultTextColor(QColor(foreground))
        self.legend.setLabelTextColor(foreground)
        self.legend.setBrush(pg.mkBrush(background))  # opaque: grid lines do not strike through the entries
        self.legend.setPen(pg.mkPen(None))  # below the axes: no frame needed
        for sample, label in self.legend.items:
            label.setText(label.text, color=foreground)

    def export(self, path: str | Path, dpi: int = 300, light: bool = False, size: str = "screen") -> Path:
        """Write the plot as PNG (at ``dpi``), SVG or PDF, chosen by the file suffix; ``light``
        draws it in the plain light theme whatever the app's; ``size``: "screen", "single" or
        "double" (a journal column, ``gui.figure_export.FIGURE_SIZES``)."""
        from gui.figure_export import export_figure

        return export_figure(self, path, dpi=dpi, light=light, size=size)


class CurvePlot(ThemedPlot):
    """Per-epoch curves, in percent (fractions in) or as values (``percent=False``, e.g. loss;
    ``log_y`` for a learning rate); one named curve per (metric, split) or per run."""

    def __init__(self, title: str, y_label: str | None = None, x_label: str | None = None, legend_columns: int = 2,
                 percent: bool = True, log_y: bool = False, parent=None):
        """``y_label`` defaults to "percent (%)", ``x_label`` to "epoch" (translated)."""
        super().__init__(title, QCoreApplication.translate("CurvePlot", "epoch") if x_label is None else x_label,
                         QCoreApplication.translate("CurvePlot", "percent (%)") if y_label is None else y_label,
                         legend_columns, percent=percent, parent=parent)
        if not percent:
            self.item.getAxis("left").enableAutoSIPrefix(False)  # "0.01", not "10 (×0.001)"
        if log_y:
            self.item.setLogMode(y=True)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.item.getViewBox().disableAutoRange(axis="x")  # set from the data: one repaint per update, not two
        self._spans: dict[str, tuple[float, float]] = {}  # each curve's first and last epoch
        self._x_range: tuple[float, float] | None = None
        self.stage_lines: list[pg.InfiniteLine] = []

    def curve(self, name: str, color: str, dashed: bool = False) -> pg.PlotDataItem:
        """The curve called ``name``, created (with its legend entry) on first use."""
        if name not in self.curves:
            pen = pg.mkPen(color, width=2)
            if dashed:
                pen.setDashPattern(DASHES)
            curve = self.item.plot([], [], name=name, pen=pen, connect="finite", symbol="o", symbolSize=5,
                                   symbolBrush=color, symbolPen=None, antialias=True)
            curve.scatter.setBrush(color)  # the legend draws the scatter's options, set before any data
            curve.scatter.setPen(None)
            self.curves[name] = curve
        return self.curves[name]

    def set_curve(self, name: str, epochs: Sequence[float], fractions: Sequence[float]) -> None:
        curve = self.curves[name]
        # dots mark the epochs while they are few (a single point needs one to be seen at all)
        curve.setSymbol("o" if len(epochs) <= SYMBOLS_UP_TO else None)
        scale = 100.0 if self.percent else 1.0
        values = [scale * v for v in fractions]
        if self.item.getAxis("left").logMode:  # a log axis cannot show 0 (lr at the end of a cosine run)
            values = [v if v > 0 else math.nan for v in values]
        curve.setData(list(epochs), values)
        if len(epochs):
            self._spans[name] = (min(epochs), max(epochs))
        else:
            self._spans.pop(name, None)
        self._fit_x()

    def _fit_x(self) -> None:
        if not self._spans:
            return
        wanted = (min(s[0] for s in self._spans.values()), max(s[1] for s in self._spans.values()))
        if wanted != self._x_range:
            self._x_range = wanted
            self.item.setXRange(wanted[0] - 0.5, wanted[1] + 0.5, padding=0.02)

    def set_stage_starts(self, starts: Sequence[tuple[float, str]]) -> None:
        """Mark where each later stage of a run begins: (its first epoch, its name)."""
        if [(line.value(), line.label.format) for line in self.stage_lines] == [(e - 0.5, n) for e, n in starts]:
            return
        for line in self.stage_lines:
            self.item.removeItem(line)
        foreground = self.colors()[1]
        pen = pg.mkPen(foreground, width=1, style=Qt.PenStyle.DashLine)
        label = {"position": 0.08, "color": foreground, "anchors": [(0, 1), (0, 1)]}
        self.stage_lines = [pg.InfiniteLine(epoch - 0.5, angle=90, movable=False, label=name, pen=pen, labelOpts=label)
                            for epoch, name in starts]
        for line in self.stage_lines:
            self.item.addItem(line, ignoreBounds=True)

    def point_count(self, name: str) -> int:
        data = self.curves[name].getData()[0]
        return 0 if data is None else len(data)

    def clear_points(self) -> None:
        for curve in self.curves.values():
            curve.setData([], [])
        self._spans.clear()

    def remove_curves(self) -> None:
        for curve in self.curves.values():
            self.item.removeItem(curve)
            self.legend.removeItem(curve)
        self.curves.clear()
        self._spans.clear()


class ClassBars(ThemedPlot):
    """Per-class bars in percent, classes ordered by training count (most first).

    One series colours bars by many / medium / few; several series are grouped side by side.
    Zero-recall classes are marked with a cross under the axis line so they cannot be missed.
    Over :data:`CURVE_FROM` classes one series is a curve (a step per class, most training images
    first) with its running mean, and lines mark where the many / medium / few groups begin.
    """

    def __init__(self, title: str, y_label: str | None = None, parent=None):
        """``y_label`` defaults to "recall (%)" (translated)."""
        super().__init__(title, QCoreApplication.translate("ClassBars", "classes, most → fewest training images"),
                         QCoreApplication.translate("ClassBars", "recall (%)") if y_label is None else y_label,
                         legend_columns=4, y_min=-8, parent=parent)
        self.item.setMouseEnabled(x=True, y=False)
        self.bars: list[pg.BarGraphItem] = []
        # zero recall: a red stub under the axis per class, narrower than the bar so that
        # neighbours stay apart at 100 classes (crosses merged into one band there)
        self.zero_marks = pg.BarGraphItem(x=[], height=[], y0=ZERO_STUB[0], width=0.5, brush=ZERO_COLOR, pen=None)
        self.item.addItem(self.zero_marks)
        self.group_samples: list[pg.BarGraphItem] = []
        self._legend_key: tuple[str, ...] = ("many", "medium", "few")
        self.order: list[int] = []
        self.class_names: list[str] = []
        self.counts: list[int] = []
        self.series: list[tuple[str, list[float]]] = []
        self.lines: list[pg.PlotCurveItem] = []  # several series over many classes: one step line each
        self.line_mode = False
        self.mean_line = pg.PlotCurveItem(antialias=True)  # one series over many classes: its running mean
        self.mean_line.setZValue(2)  # above the per-class steps
        self.mean_line.hide()
        self.item.addItem(self.mean_line)
        self.group_edges: list[pg.InfiniteLine] = []
        self._ensure_bar_items(1)  # the first epoch then only updates what exists
        self._update_legend(1)
        self.scene().sigMouseMoved.connect(self._show_tooltip)

    def set_bars(self, class_names: Sequence[str], counts: Sequence[int],
                 series: Sequence[tuple[str, Sequence[float]]]) -> None:
        """Show ``series`` (name, per-class fractions in dataset class order)."""
        self.class_names, self.counts = list(class_names), list(counts)
        self.series = [(name, list(values)) for name, values in series]
        self.order = sorted(range(len(self.counts)), key=lambda i: -self.counts[i])
        n = max(1, len(self.series))
        width = 0.8 / n
        self._ensure_bar_items(n)
        # side-by-side bars of several series turn into a wall at 100 classes, and one series into
        # a comb at 1,000: draw steps instead
        curve = n == 1 and len(self.order) > CURVE_FROM
        self.line_mode = curve or (n > 1 and len(self.order) > LINES_FROM)
        self._draw_lines(n if self.line_mode else 0)
        self._draw_running_mean(curve)
        for k, bar in enumerate(self.bars):
            if k >= len(self.series) or self.line_mode:
                bar.setOpts(x=[], height=[], width=width)
                bar.hide()
                continue
            name, values = self.series[k]
            heights = [100.0 * _finite(values[i]) if i < len(values) else 0.0 for i in self.order]
            xs = [rank + (k - (n - 1) / 2) * width for rank in range(len(self.order))]
            color = SERIES_COLORS[k % len(SERIES_COLORS)]
            brushes = self._group_brushes() if n == 1 else [pg.mkBrush(color)] * len(xs)
            bar.setOpts(x=xs, height=heights, width=width * 0.92, brushes=brushes, pens=[pg.mkPen(None)] * len(xs))
            bar.show()
        key = ("many", "medium", "few") if n == 1 and not curve else (self.line_mode,
                                                                       *(name for name, _ in self.series))
        if key != self._legend_key:  # rebuilding the legend costs more than the bars
            self._legend_key = key
            self._update_legend(n)
        self._mark_zeros(width)
        self._set_ticks()
        self.item.setXRange(-0.6, len(self.order) - 0.4, padding=0)

    def bar_count(self, series_index: int = 0) -> int:
        """Bars (or steps) shown for one series (one per class)."""
        if series_index >= len(self.series):
            return 0
        if self.line_mode:
            y = self.lines[series_index].yData
            return 0 if y is None else len(y)
        return len(self.bars[series_index].opts["x"])

    def heights(self, series_index: int = 0) -> list[float]:
        """The percent values shown for one series, in display (training-count) order."""
        if self.line_mode:
            y = self.lines[series_index].yData
            return [] if y is None else [float(v) for v in y]
        return [float(v) for v in self.bars[series_index].opts["height"]]

    def zero_count(self) -> int:
        return len(self.zero_marks.opts["x"])

    # --- internals -------------------------------------------------------------------------
    def _draw_lines(self, n: int) -> None:
        """One step line per series (class ranks on x), or none when ``n`` is 0."""
        while len(self.lines) < n:
            line = pg.PlotCurveItem(antialias=True)  # stepMode comes with the data (it checks the lengths)
            self.item.addItem(line)
            self.lines.append(line)
        edges = [rank - 0.5 for rank in range(len(self.order) + 1)]
        for k, line in enumerate(self.lines):
            if k >= n:
                line.clear()
                line.hide()
                continue
            _name, values = self.series[k]
            heights = [100.0 * _finite(values[i]) if i < len(values) else 0.0 for i in self.order]
            color = QColor(SERIES_COLORS[k % len(SERIES_COLORS)])
            if n == 1:  # one series over many classes: light, its running mean on top
                color.setAlpha(150)
            line.setData(edges, heights, stepMode="center", pen=pg.mkPen(color, width=1 if n == 1 else 2))
            line.show()

    def running_mean_width(self) -> int:
        """Classes averaged by the running mean: about a fiftieth of them, odd, at least 5."""
        return max(5, len(self.order) // 50 // 2 * 2 + 1)

    def _draw_running_mean(self, shown: bool) -> None:
        """The running mean of the one series over ranks (curve mode), and the group edges."""
        for line in self.group_edges:
            self.item.removeItem(line)
        self.group_edges = []
        if not shown:
            self.mean_line.clear()
            self.mean_line.hide()
            return
        _name, values = self.series[0]
        heights = [100.0 * _finite(values[i]) if i < len(values) else 0.0 for i in self.order]
        half = self.running_mean_width() // 2
        sums = [0.0]
        for h in heights:
            sums.append(sums[-1] + h)
        mean = [(sums[min(len(heights), r + half + 1)] - sums[max(0, r - half)])
                / (min(len(heights), r + half + 1) - max(0, r - half)) for r in range(len(heights))]
        self.mean_line.setData(list(range(len(heights))), mean, pen=pg.mkPen(COLORS[1], width=3))
        self.mean_line.show()
        groups = [group_of(self.counts[i]) for i in self.order]
        for rank in range(1, len(groups)):
            if groups[rank] != groups[rank - 1]:
                edge = pg.InfiniteLine(rank - 0.5, angle=90, pen=pg.mkPen(self.colors()[1], width=1,
                                                                          style=Qt.PenStyle.DashLine),
                                       label=self.tr("{0}-shot →").format(self.tr(GROUP_WORDS[groups[rank]])),
                                       labelOpts={"position": 0.93, "color": self.colors()[1]})
                self.item.addItem(edge)
                self.group_edges.append(edge)

    def _ensure_bar_items(self, n: int) -> None:
        while len(self.bars) < n:
            bar = pg.BarGraphItem(x=[], height=[], width=0.8, pen=None)  # no outline (also in the legend)
            self.item.addItem(bar)
            self.bars.append(bar)

    def _group_brushes(self) -> list:
        return [pg.mkBrush(GROUP_COLORS[group_of(self.counts[i])]) for i in self.order]

    def _update_legend(self, n: int) -> None:
        """Entries: the groups (one series as bars) or the series (and a curve's running mean),
        then the zero-recall mark; ≤ 3 per row."""
        for item in [*self.bars, *self.lines, *self.group_samples, self.mean_line, self.zero_marks]:
            self.legend.removeItem(item)
        self.group_samples = []
        self.legend.setColumnCount(4 if n == 1 and not self.line_mode else 3)
        if n == 1 and not self.line_mode:
            for group, color in GROUP_COLORS.items():
                sample = pg.BarGraphItem(x=[], height=[], width=1, brush=color, pen=None)
                self.group_samples.append(sample)
                self.legend.addItem(sample, self.tr("{0}-shot").format(self.tr(GROUP_WORDS[group])))
        else:
            for k in range(n):
                self.bars[k].setOpts(brush=SERIES_COLORS[k % len(SERIES_COLORS)])
                self.legend.addItem(self.lines[k] if self.line_mode else self.bars[k], self.series[k][0])
            if self.mean_line.isVisible():
                self.legend.addItem(self.mean_line, self.tr("running mean ({0} classes)").format(
                    self.running_mean_width()))
        self.legend.addItem(self.zero_marks, self.tr("zero recall"))
        self.apply_theme()

    def _mark_zeros(self, width: float) -> None:
        n = len(self.series)
        xs = [rank + (k - (n - 1) / 2) * width
              for k, (_name, values) in enumerate(self.series)
              for rank, i in enumerate(self.order) if i < len(values) and values[i] == 0]
        self.zero_marks.setOpts(x=xs, y0=ZERO_STUB[0], height=ZERO_STUB[1] - ZERO_STUB[0], width=width * 0.55)

    def _set_ticks(self) -> None:
        axis = self.item.getAxis("bottom")
        if len(self.order) <= 20:
            ticks = [(rank, _short(self.class_names[i])) for rank, i in enumerate(self.order)]
            axis.setLabel(self.tr("classes, most → fewest training images"))
        else:  # every tenth class by name (and its count); hover any bar for its name
            step = max(1, len(self.order) // 10)
            ticks = [(rank, f"{_short(self.class_names[self.order[rank]], 8)} {self.counts[self.order[rank]]}")
                     for rank in range(0, len(self.order), step)]
            axis.setLabel(self.tr("classes, most → fewest training images (tick: name and images)"))
        axis.setTicks([ticks, []])

    def _show_tooltip(self, position: QPointF) -> None:
        if not self.order or not self.item.sceneBoundingRect().contains(position):
            return
        x = self.item.getViewBox().mapSceneToView(position).x()
        rank = int(round(x))
        if not 0 <= rank < len(self.order):
            return
        i = self.order[rank]
        lines = [self.tr("<b>{0}</b> · %n training image(s)", "", self.counts[i]).format(self.class_names[i])]
        lines += [f"{name}: {100 * _finite(values[i]):.1f} %" for name, values in self.series if i < len(values)]
        QToolTip.showText(QCursor.pos(), "<br>".join(lines), self)


class ChangeBars(ThemedPlot):
    """Each class's change from one series to another (after − before, in percentage points),
    sorted from the largest gain to the largest loss; a class at zero recall after it is marked
    below the axis. Hover a bar for its class."""

    def __init__(self, parent=None):
        # self.tr needs the QObject built first
        super().__init__(QCoreApplication.translate("ChangeBars", "Per-class change"),
                         QCoreApplication.translate("ChangeBars", "classes, largest gain → largest loss"),
                         QCoreApplication.translate("ChangeBars", "change in recall (points)"), legend_columns=3,
                         percent=False, parent=parent)
        self.item.setMouseEnabled(x=True, y=False)
        self.gain = pg.BarGraphItem(x=[], height=[], width=0.8, brush=COLORS[2], pen=None)
        self.loss = pg.BarGraphItem(x=[], height=[], width=0.8, brush=COLORS[1], pen=None)
        self.zero_marks = pg.BarGraphItem(x=[], height=[], width=0.5, brush=ZERO_COLOR, pen=None)
        for item, name in ((self.gain, self.tr("gain")), (self.loss, self.tr("loss")),
                           (self.zero_marks, self.tr("at zero after"))):
            self.item.addItem(item)
            self.legend.addItem(item, name)
        self.apply_theme()
        self.names: list[str] = []
        self.order: list[int] = []  # class indices, largest gain first
        self.before: list[float] = []
        self.after: list[float] = []
        self.scene().sigMouseMoved.connect(self._show_tooltip)

    def set_change(self, names: Sequence[str], before: Sequence[float], after: Sequence[float]) -> list[int]:
        """Show after − before per class (fractions in, dataset class order); returns the order shown."""
        self.names, self.before, self.after = list(names), [_finite(v) for v in before], [_finite(v) for v in after]
        change = [a - b for a, b in zip(self.after, self.before)]
        self.order = sorted(range(len(change)), key=lambda i: -change[i])
        heights = [100 * change[i] for i in self.order]
        ranks = list(range(len(heights)))
        self.gain.setOpts(x=[r for r in ranks if heights[r] > 0], height=[h for h in heights if h > 0])
        self.loss.setOpts(x=[r for r in ranks if heights[r] < 0], height=[h for h in heights if h < 0])
        low = min([0.0, *heights])
        stub = max(1.0, 0.04 * (max([0.0, *heights]) - low))
        zeros = [r for r, i in enumerate(self.order) if self.after[i] == 0]
        self.zero_marks.setOpts(x=zeros, y0=low - 2 * stub, height=stub, width=0.55)
        self.item.setXRange(-0.6, max(1, len(heights)) - 0.4, padding=0)
        return self.order

    def changes(self) -> list[float]:
        """The bars' heights in points, in the order shown."""
        return [100 * (self.after[i] - self.before[i]) for i in self.order]

    def _show_tooltip(self, position: QPointF) -> None:
        if not self.order or not self.item.sceneBoundingRect().contains(position):
            return
        rank = int(round(self.item.getViewBox().mapSceneToView(position).x()))
        if 0 <= rank < len(self.order):
            i = self.order[rank]
            QToolTip.showText(QCursor.pos(), self.tr("<b>{0}</b>: {1:.1f} → {2:.1f} % ({3:+.1f})").format(
                self.names[i], 100 * self.before[i], 100 * self.after[i], 100 * (self.after[i] - self.before[i])), self)


def group_of(count: int) -> str:
    """many (> 100 training images), medium (20–100) or few (< 20)."""
    from engine.metrics import FEW_THRESHOLD, MANY_THRESHOLD

    return "many" if count > MANY_THRESHOLD else "few" if count < FEW_THRESHOLD else "medium"


def _finite(value: float) -> float:
    return value if value == value else 0.0  # NaN (a class absent from the test set) → 0


def _short(name: str, limit: int = 9) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
