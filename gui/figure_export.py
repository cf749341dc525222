"""Figures for a paper: any plot as PNG at a chosen DPI, SVG or PDF, in the app's theme or a
plain light one, as on screen or laid out for a journal column: 3.5 in (single) or 7 in (double)
wide. The plot is laid out again at that size (1 inch = 96 layout pixels, so fonts keep their point
size), then painted at the DPI: text, legends, lines and markers all scale with it. SVG and PDF
paint the same scene into Qt's SVG generator / PDF writer, so text and lines stay vectors.
A target that cannot be written is refused with one line, before and after writing."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QMarginsF, QRectF, QSize, QSizeF, QT_TRANSLATE_NOOP
from PySide6.QtGui import QColor, QImage, QPageLayout, QPageSize, QPdfWriter
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QSpinBox

from errors import UserError
from gui.svg_export import QtSvgExporter, VectorExporter, render_scene
from gui.table_export import check_writable

FORMATS = {".png": QT_TRANSLATE_NOOP("FigureExportDialog", "PNG image"),
           ".svg": QT_TRANSLATE_NOOP("FigureExportDialog", "SVG vector image"),
           ".pdf": QT_TRANSLATE_NOOP("FigureExportDialog", "PDF vector document")}  # translated where shown
SCREEN_DPI = 96  # a plot's on-screen pixels are taken as 1/96 inch
POINTS_PER_INCH = 72
PDF_TITLE = "Long-Tail Studio plot"  # the PDF file's metadata, not translated
FIGURE_SIZES: dict[str, tuple[float, float] | None] = {  # width × height in inches
    "screen": None, "single": (3.5, 2.5), "double": (7.0, 3.0)}


class PdfExporter(VectorExporter):
    """One page exactly the plot's size (in points), vectors throughout."""

    Name = "PDF document"
    FILTER = "PDF document (*.pdf)"

    def write(self, path: str, source: QRectF) -> None:
        writer = QPdfWriter(path)
        writer.setTitle(PDF_TITLE)
        writer.setResolution(SCREEN_DPI)
        size = QSizeF(source.width() * POINTS_PER_INCH / SCREEN_DPI, source.height() * POINTS_PER_INCH / SCREEN_DPI)
        writer.setPageLayout(QPageLayout(QPageSize(size, QPageSize.Unit.Point), QPageLayout.Orientation.Portrait,
                                         QMarginsF(0, 0, 0, 0)))
        render_scene(self, writer, QRectF(0, 0, source.width(), source.height()), source)


class PngExporter(VectorExporter):
    """The scene painted at ``dpi``: the image's device pixel ratio is dpi / 96, so every font,
    pen and marker is drawn that much larger, and the DPI is written into the file."""

    def __init__(self, item, dpi: int, background: str):
        super().__init__(item)
        self.dpi, self.background = dpi, background

    def write(self, path: str, source: QRectF) -> None:
        ratio = self.dpi / SCREEN_DPI
        image = QImage(round(source.width() * ratio), round(source.height() * ratio), QImage.Format.Format_ARGB32)
        image.setDevicePixelRatio(ratio)
        image.fill(QColor(self.background))
        render_scene(self, image, QRectF(0, 0, source.width(), source.height()), source)
        dots_per_metre = round(self.dpi / 0.0254)
        image.setDotsPerMeterX(dots_per_metre)
        image.setDotsPerMeterY(dots_per_metre)
        image.setDevicePixelRatio(1.0)
        image.save(path, "PNG")


def export_figure(plot, path: str | Path, dpi: int = 300, light: bool = False, size: str = "screen") -> Path:
    """Write ``plot`` (a ``gui.plots.ThemedPlot``) to ``path``; the suffix picks PNG, SVG or PDF,
    ``size`` a key of :data:`FIGURE_SIZES`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(QCoreApplication.translate(
            "FigureExportDialog", "{0}: save figures as .png, .svg or .pdf").format(path.name))
    if not 30 <= dpi <= 1200:
        raise UserError(QCoreApplication.translate("FigureExportDialog", "{0} DPI is outside 30 to 1200").format(dpi))
    if size not in FIGURE_SIZES:
        raise UserError(QCoreApplication.translate(
            "FigureExportDialog", "{0!r} is not a figure size ({1})").format(size, ", ".join(FIGURE_SIZES)))
    check_writable(path)
    with laid_out(plot, FIGURE_SIZES[size]), plain_light(plot, light):
        exporter = {".svg": lambda: QtSvgExporter(plot.item), ".pdf": lambda: PdfExporter(plot.item),
                    ".png": lambda: PngExporter(plot.item, dpi, plot.colors()[0])}[suffix]()
        exporter.export(str(path))
    if not path.is_file() or path.stat().st_size == 0:
        raise UserError(QCoreApplication.translate(
            "FigureExportDialog", "{0} could not be written; choose another folder or name").format(path))
    return path


@contextmanager
def laid_out(plot, inches: tuple[float, float] | None) -> Iterator[None]:
    """Lay ``plot`` out at ``inches`` (width, height) while the figure is painted, then back."""
    if inches is None:
        yield
        return
    old_size, old_minimum = plot.size(), plot.minimumSize()
    plot.setMinimumSize(0, 0)
    plot.resize(QSize(round(inches[0] * SCREEN_DPI), round(inches[1] * SCREEN_DPI)))
    plot.item.layout.activate()
    try:
        yield
    finally:
        plot.setMinimumSize(old_minimum)
        plot.resize(old_size)


@contextmanager
def plain_light(plot, light: bool) -> Iterator[None]:
    """Draw ``plot`` in the plain light theme while the figure is painted (``light``), then back."""
    if light:
        plot.set_light(True)
    try:
        yield
    finally:
        if light:
            plot.set_light(False)


class FigureExportDialog(QDialog):
    """The figure options: format, size, resolution (PNG) and theme; then a file name is asked."""

    def __init__(self, parent=None, dpi: int = 300, light: bool = True, size: str = "single"):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Export figures"))
        self.format = QComboBox()
        for suffix, text in FORMATS.items():
            self.format.addItem(f"{self.tr(text)} ({suffix})", suffix)
        self.size = QComboBox()
        for key, text in (("single", self.tr("Single column: 3.5 × 2.5 in")),
                          ("double", self.tr("Double column: 7 × 3 in")), ("screen", self.tr("As on screen"))):
            self.size.addItem(text, key)
        self.size.setCurrentIndex(max(0, self.size.findData(size)))
        self.size.setToolTip(self.tr("Column sizes lay the plot out at that size, so its fonts print at their point "
                                     "size."))
        self.dpi = QSpinBox()
        self.dpi.setRange(72, 1200)
        self.dpi.setSingleStep(50)
        self.dpi.setValue(dpi)
        self.dpi.setSuffix(" DPI")
        self.dpi.setToolTip(self.tr("Resolution of a PNG: text, lines and legends are drawn at it too."))
        self.theme = QComboBox()
        self.theme.addItem(self.tr("Plain light (for print)"), True)
        self.theme.addItem(self.tr("As on screen (current theme)"), False)
        self.theme.setCurrentIndex(0 if light else 1)
        self.format.currentIndexChanged.connect(lambda: self.dpi.setEnabled(self.suffix() == ".png"))
        form = QFormLayout(self)
        form.addRow(self.tr("Format"), self.format)
        form.addRow(self.tr("Size"), self.size)
        form.addRow(self.tr("Resolution"), self.dpi)
        form.addRow(self.tr("Theme"), self.theme)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def suffix(self) -> str:
        return self.format.currentData()

    def options(self) -> tuple[str, int, bool, str]:
        """(suffix, dpi, light, size)."""
        return self.suffix(), self.dpi.value(), bool(self.theme.currentData()), self.size.currentData()
