"""A dialog with a few training images and the augmented views their method trains on.

The engine draws the views (``engine.view_preview``); this only lays them out: one row per
image, the original first, then one column per view, each scaled up with nearest-neighbour
pixels so that 32×32 images stay readable.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QVBoxLayout, QWidget

SCALE = 3
VIEW_TITLES = {"none": QT_TRANSLATE_NOOP("ViewPreviewDialog", "as stored"),
               "crop_flip": QT_TRANSLATE_NOOP("ViewPreviewDialog", "crop + flip"),
               "paco_query": QT_TRANSLATE_NOOP("ViewPreviewDialog", "query: AutoAugment + Cutout"),
               "paco_key": QT_TRANSLATE_NOOP("ViewPreviewDialog", "key: SimCLR")}


def pixmap_of(image, scale: int = SCALE) -> QPixmap:
    """A uint8 ``(3, H, W)`` tensor as a pixmap ``scale`` times its size."""
    height, width = int(image.shape[1]), int(image.shape[2])
    data = image.permute(1, 2, 0).contiguous().cpu().numpy().tobytes()
    qimage = QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaled(width * scale, height * scale, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)


class ViewPreviewDialog(QDialog):
    """Rows of ``original | view 1 | view 2 …`` for an ``engine.view_preview.ViewPreview``."""

    def __init__(self, preview, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("What the model trains on"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        headers = [self.tr("class"), self.tr("original"),
                   *(self.tr(VIEW_TITLES[name]) if name in VIEW_TITLES else name for name in preview.view_names)]
        for column, text in enumerate(headers):
            header = QLabel(text)
            header.setObjectName("hint")
            grid.addWidget(header, 0, column, Qt.AlignmentFlag.AlignCenter)
        self.images: list[QLabel] = []
        for row, name in enumerate(preview.class_names, start=1):
            grid.addWidget(QLabel(name), row, 0)
            for column, batch in enumerate([preview.originals, *preview.views], start=1):
                label = QLabel()
                label.setPixmap(pixmap_of(batch[row - 1]))
                grid.addWidget(label, row, column, Qt.AlignmentFlag.AlignCenter)
                self.images.append(label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        note = QLabel(self.tr("Each view is drawn anew for every image in every epoch; these are one draw."))
        note.setObjectName("hint")
        layout.addWidget(note)
        layout.addLayout(grid)
        layout.addWidget(buttons)
