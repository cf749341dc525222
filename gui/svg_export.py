"""SVG export through Qt's own ``QSvgGenerator``.

pyqtgraph 0.14's ``SVGExporter`` fails with recent Qt (its path rewriting expects "x,y"
pairs; pyqtgraph issue #3485), so this exporter renders the plot's scene straight into an
SVG file and takes the SVG exporter's place in pyqtgraph's own "Export…" dialog.
"""
from __future__ import annotations

from pyqtgraph.exporters import Exporter, SVGExporter
from pyqtgraph.parametertree import Parameter
from PySide6.QtCore import QCoreApplication, QRectF, QT_TRANSLATE_NOOP
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator


class VectorExporter(Exporter):
    """An exporter without options that paints the scene into a file-backed paint device."""

    Name = ""
    FILTER = ""  # the save dialog's filter, e.g. "Scalable Vector Graphics (*.svg)"
    allowCopy = False

    def __init__(self, item):
        super().__init__(item)
        self.params = Parameter.create(name="params", type="group", children=[])

    def parameters(self):
        return self.params

    def export(self, fileName=None, toBytes=False, copy=False):
        if fileName is None:
            self.fileSaveDialog(filter=self.FILTER)
            return None
        self.write(str(fileName), self.getSourceRect())
        return None

    def write(self, path: str, source: QRectF) -> None:
        raise NotImplementedError


class QtSvgExporter(VectorExporter):
    Name = "Scalable Vector Graphics (SVG)"
    FILTER = QT_TRANSLATE_NOOP("FigureExport", "Scalable Vector Graphics (*.svg)")

    def write(self, path: str, source: QRectF) -> None:
        target = QRectF(0, 0, source.width(), source.height())
        generator = QSvgGenerator()
        generator.setFileName(path)
        generator.setSize(target.size().toSize())
        generator.setViewBox(target)
        generator.setTitle(QCoreApplication.translate("FigureExport", "Long-Tail Studio plot"))
        render_scene(self, generator, target, source)


def render_scene(exporter: Exporter, device, target: QRectF, source: QRectF) -> None:
    """Paint the exporter's scene rectangle ``source`` into ``target`` of a paint device (an SVG
    generator, a PDF writer), antialiased, in pyqtgraph's export mode."""
    painter = QPainter(device)
    try:
        exporter.setExportMode(True, {"antialias": True, "background": None, "painter": painter})
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        exporter.getScene().render(painter, target, source)
    finally:
        exporter.setExportMode(False)
        painter.end()


def install() -> None:
    """Offer this exporter instead of pyqtgraph's SVG exporter in the plot context menu."""
    exporters = Exporter.Exporters
    if SVGExporter in exporters:
        exporters[exporters.index(SVGExporter)] = QtSvgExporter
    elif QtSvgExporter not in exporters:
        exporters.append(QtSvgExporter)
