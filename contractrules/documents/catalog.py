"""Keep the gettext catalogues in step with the templates and code (a developer tool).

    python -m contractrules.documents.catalog      # add new messages to every .po, drop unused ones

Extracts ``_()``/``gettext``/``ngettext`` messages from this package's Python modules and
templates (Jinja2's babel extractor), then updates ``locales/<lang>/LC_MESSAGES/messages.po``
keeping existing translations. Tests use :func:`extract` to check every message is
translated into Spanish.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from contractrules.documents.i18n import LANGS, catalog_path

HERE = Path(__file__).resolve().parent
METHODS = [("**.py", "python"), ("templates/**", "jinja2.ext:babel_extract")]
OPTIONS = {"templates/**": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    catalog = Catalog(project="contractrules", version="0.1", fuzzy=False)
    for filename, lineno, message, _comments, _context in extract_from_dir(HERE, METHODS, OPTIONS, KEYWORDS):
        catalog.add(message, None, [(filename, lineno)])
    return catalog


def update() -> None:
    template = extract()
    for lang, locale in LANGS.items():
        path = catalog_path(lang)
        with open(path, "rb") as fh:
            catalog = read_po(fh, locale=locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with open(path, "wb") as fh:
            write_po(fh, catalog, sort_output=True, no_location=True, width=100)


if __name__ == "__main__":
    update()
