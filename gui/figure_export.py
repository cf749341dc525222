"""Figures for a paper: any plot as PNG at a chosen DPI, SVG or PDF, in the app's theme or a
plain light one. PNG goes through pyqtgraph's image exporter (scaled to the DPI, with the DPI
written into the file); SVG and PDF render the plot's scene into Qt's SVG generator / PDF writer,
so text and lines stay vectors."""
from __future__ import annotations

from pathlib import Path

from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QMarginsF, QRectF, QSizeF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QSpinBox

from errors import UserError
from gui.svg_export import QtSvgExporter, VectorExporter, render_scene

FORMATS = {".png": "PNG image", ".svg": "SVG vector image", ".pdf": "PDF vector document"}
SCREEN_DPI = 96  # a plot's on-screen pixels are taken as 1/96 inch
POINTS_PER_INCH = 72


class PdfExporter(VectorExporter):
    """One page exactly the plot's size (in points), vectors throughout."""

    Name = "PDF document"
    FILTER = "PDF document (*.pdf)"

    def write(self, path: str, source: QRectF) -> None:
        writer = QPdfWriter(path)
        writer.setTitle("Long-Tail Studio plot")
        writer.setResolution(SCREEN_DPI)
        size = QSizeF(source.width() * POINTS_PER_INCH / SCREEN_DPI, source.height() * POINTS_PER_INCH / SCREEN_DPI)
        writer.setPageLayout(QPageLayout(QPageSize(size, QPageSize.Unit.Point), QPageLayout.Orientation.Portrait,
                                         QMarginsF(0, 0, 0, 0)))
        render_scene(self, writer, QRectF(0, 0, source.width(), source.height()), source)


def export_figure(plot, path: str | Path, dpi: int = 192, light: bool = False) -> Path:
    """Write ``plot`` (a ``gui.plots.ThemedPlot``) to ``path``; the suffix picks PNG, SVG or PDF."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"{path.name}: save figures as .png, .svg or .pdf")
    if not 30 <= dpi <= 1200:
        raise UserError(f"{dpi} DPI is outside 30 to 1200")
    if light:
        plot.set_light(True)
    try:
        if suffix == ".svg":
            QtSvgExporter(plot.item).export(str(path))
        elif suffix == ".pdf":
            PdfExporter(plot.item).export(str(path))
        else:
            exporter = ImageExporter(plot.item)
            exporter.parameters()["width"] = int(round(plot.item.sceneBoundingRect().width() * dpi / SCREEN_DPI))
            exporter.export(str(path))
            image = QImage(str(path))
            dots_per_metre = int(round(dpi / 0.0254))
            image.setDotsPerMeterX(dots_per_metre)
            image.setDotsPerMeterY(dots_per_metre)
            image.save(str(path))
    finally:
        if light:
            plot.set_light(False)
    return path


class FigureExportDialog(QDialog):
    """The figure options: format, resolution (PNG) and theme; then a file name is asked."""

    def __init__(self, parent=None, dpi: int = 300, light: bool = True):
        super().__init__(parent)
        self.setWindowTitle("Export figures")
        self.format = QComboBox()
        for suffix, text in FORMATS.items():
            self.format.addItem(f"{text} ({suffix})", suffix)
        self.dpi = QSpinBox()
        self.dpi.setRange(72, 1200)
        self.dpi.setSingleStep(50)
        self.dpi.setValue(dpi)
        self.dpi.setSuffix(" DPI")
        self.dpi.setToolTip("Resolution of a PNG, for a plot of its on-screen size (96 DPI on screen).")
        self.theme = QComboBox()
        self.theme.addItem("Plain light (for print)", True)
        self.theme.addItem("As on screen (current theme)", False)
        self.theme.setCurrentIndex(0 if light else 1)
        self.format.currentIndexChanged.connect(lambda: self.dpi.setEnabled(self.suffix() == ".png"))
        form = QFormLayout(self)
        form.addRow("Format", self.format)
        form.addRow("Resolution", self.dpi)
        form.addRow("Theme", self.theme)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def suffix(self) -> str:
        return self.format.currentData()

    def options(self) -> tuple[str, int, bool]:
        """(suffix, dpi, light)."""
        return self.suffix(), self.dpi.value(), bool(self.theme.currentData())
