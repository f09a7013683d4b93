"""Language codes and names (ISO 639, from pycountry): the index keeps the code
py3langid gives (``en``), the page shows the name, a query may use either.

>>> language_name("en"), language_code("English"), language_code("en"), language_code("Klingonese")
('English', 'en', 'en', None)
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["language_code", "language_name"]


@lru_cache(maxsize=256)
def language_name(code: str | None) -> str:
    """``en`` as ``English``; the code itself when it names no language."""
    if not code:
        return ""
    import pycountry

    found = pycountry.languages.get(alpha_2=code) if len(code) == 2 else pycountry.languages.get(alpha_3=code)
    return re.sub(r"\s*\(.*\)$", "", found.name) if found else code


@lru_cache(maxsize=256)
def language_code(name: str) -> str | None:
    """The code the index keeps for a language's name or code (``English`` -> ``en``), or None."""
    import pycountry

    text = name.strip().lower()
    found = (pycountry.languages.get(alpha_2=text) if len(text) == 2 else
             pycountry.languages.get(alpha_3=text) if len(text) == 3 else None)
    if found is None:
        try:
            found = pycountry.languages.lookup(text)  # a name (English), any case
        except LookupError:
            return None
    return getattr(found, "alpha_2", None) or found.alpha_3
