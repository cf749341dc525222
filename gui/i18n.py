"""The app's language: Qt translators for the app's catalogue and for Qt's own strings.

``install_translators`` runs in ``gui.app.create_application``, before any window is built, with
the language stored in the settings (``app/language``: ``system``, ``en`` or ``zh_CN``; View →
Language, applied on the next start). English is the source language: its catalogue
``long_tail_studio_en.qm`` holds only the plural forms ("%n image(s)" → "1 image", "2 images").
``zh_CN`` loads ``translations/long_tail_studio_zh_CN.qm`` and Qt's ``qtbase_zh_CN.qm`` from
PySide6, so OK/Cancel and the file dialogs match. The ``.qm`` files are built from the committed
``.ts`` by ``tools/update_translations.py``. A catalogue that cannot be loaded is logged and the
app falls back to the English source strings.
docs/i18n.md has the rules and the glossary.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QT_TRANSLATE_NOOP, QTranslator
from PySide6.QtGui import QFont, QFontDatabase

from engine import workspace
from gui import errors

LANGUAGE_KEY = "app/language"
SYSTEM = "system"
ENGLISH = "en"
CHINESE = "zh_CN"
# each language is named in its own words; only "System" is translated
LANGUAGES = {SYSTEM: QT_TRANSLATE_NOOP("Language", "System"), ENGLISH: "English", CHINESE: "简体中文"}
CATALOGUE = "long_tail_studio"
TRANSLATIONS_DIR = workspace.CODE_ROOT / "translations"

_installed: list[QTranslator] = []  # kept alive while installed; replaced by the next install
_installed_language = ""  # the language of _installed


def resolve(choice: str, system: QLocale | None = None) -> str:
    """The language a stored ``choice`` means: ``system`` follows ``system`` (default: the desktop's
    locale), Simplified Chinese for Chinese in China, Singapore or the Simplified script."""
    if choice in (ENGLISH, CHINESE):
        return choice
    locale = system or QLocale.system()
    simplified = (locale.script() == QLocale.Script.SimplifiedHanScript
                  or locale.territory() in (QLocale.Country.China, QLocale.Country.Singapore))
    return CHINESE if locale.language() == QLocale.Language.Chinese and simplified else ENGLISH


def catalogue_path(language: str) -> Path:
    return TRANSLATIONS_DIR / f"{CATALOGUE}_{language}.qm"


def qt_translations_dir() -> str:
    return QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)


def install_translators(app: QCoreApplication, choice: str) -> str:
    """Install the translators of ``choice`` (replacing any installed before); returns the language
    in use. A missing or unreadable catalogue is logged and leaves the English source strings.
    Installing the language already installed changes nothing (every (re)install makes Qt send a
    LanguageChange event to every widget)."""
    global _installed_language
    language = resolve(choice)
    if _installed and language == _installed_language:
        return language
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    _installed_language = ""
    own = QTranslator(app)
    if not own.load(str(catalogue_path(language))):
        errors.write_log(f"language {language}: cannot load {catalogue_path(language)}; showing the English source")
        return ENGLISH
    translators = [own]
    if language != ENGLISH:
        qt = QTranslator(app)
        if qt.load(f"qtbase_{language}", qt_translations_dir()):
            translators.append(qt)
        else:
            errors.write_log(f"language {language}: Qt's qtbase_{language}.qm is missing in {qt_translations_dir()}")
        cjk_font_fallback(app)
    for translator in translators:
        app.installTranslator(translator)
        _installed.append(translator)
    _installed_language = language
    return language


def installed_language() -> str:
    """The language of the installed app catalogue: ``zh_CN`` or ``en``."""
    return _installed_language or ENGLISH


def installed_catalogues() -> list[str]:
    """The files of the installed translators: the app's catalogue, then Qt's."""
    return [translator.filePath() for translator in _installed]


def cjk_font_fallback(app: QCoreApplication) -> list[str]:
    """On the offscreen platform (screenshots, the self-test), where no desktop picks fallback fonts,
    make the installed Simplified-Chinese fonts substitutes of the UI font; returns them. With none
    installed (logged) Chinese text renders as boxes."""
    if app.platformName() != "offscreen":
        return []
    families = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    if families:
        QFont.insertSubstitutions(app.font().family(), families[:3])
    else:
        errors.write_log("no Simplified-Chinese font is installed: Chinese text renders as boxes offscreen")
    return list(families)
