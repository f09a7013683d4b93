"""Hostile queries: property-based tests (hypothesis) of the library, the CLI and the JSON API.

Whatever the query and the parameters, the answer is results or a clear
``QueryError`` (library), exit status 1 with one ``Error:`` line or click's
usage error 2 (CLI), a JSON 200 or a JSON 4xx (API): never another exception,
a traceback or a 500. Results keep their promises whatever the input: hits
fit the page, and the HTML fragments (titles, snippets) hold no tag but
``<mark>``. Pathological queries (very long, many ORs, leading wildcards,
huge pages) answer within generous bounds on an index with a large vocabulary.
"""

from __future__ import annotations

import json
import random
import re
import string
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchapp import QueryError, SearchIndex, SearchResults, reindex
from searchapp.cli import main as cli_main
from searchapp.search import SORTS

FUZZED: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_figures():
    yield
    print(f"\nqueries fuzzed (hypothesis examples run): {dict(FUZZED)}, total {sum(FUZZED.values())}")


# -- strategies -------------------------------------------------------------------------

WORDS = ["grain", "pipeline", "ransomware", "Rostov-on-Don", "defence", "defense", "energy", "Black",
         "Sea", "corruption", "armour", "substation", "the", "of", "Reuters", "CISA", "wheat", "drones"]
SYNTAX = ["AND", "OR", "NOT", "TO", "(", ")", '"', "-", "+", "*", "?", "~", "~2", "^2", "^", ":", "[", "]",
          "{", "}", "\\", "/", "'", "!", "&&", "||", "title:", "body:", "source:", "topic:", "date:",
          "Title:", "nosuch:", "http://x.org/a:b", "date:[2023 TO 2024]", "date:[* TO 2024-02]", "date:2024-13",
          "date:0000", "source:CISA", 'source:"UK Ministry of Defence"', "topic:energy", "*a", "*a*", "a*",
          "?????", "\udcff", "\ud800", "\x00", "\n", "\t", "\u202e", "\ufffd", "\U0001f600", "é", "Ⅻ", "ﬁ", "İ", "ß"]
CHARS = st.characters(blacklist_categories=())  # every code point, lone surrogates too
HTTP_CHARS = st.characters(blacklist_categories=("Cs",))  # what a URL can carry, once decoded


def query_text(chars=CHARS) -> st.SearchStrategy[str]:
    syntax = SYNTAX if chars is CHARS else [t for t in SYNTAX if not any("\ud800" <= c <= "\udfff" for c in t)]
    token = st.one_of(st.sampled_from(WORDS), st.sampled_from(syntax), st.text(chars, max_size=8))
    joined = st.lists(token, max_size=12).flatmap(
        lambda parts: st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=len(parts), max_size=len(parts))
        .map(lambda seps: "".join(p + s for p, s in zip(parts, seps))))
    return st.one_of(st.text(chars, max_size=80), joined)


DATES = st.one_of(st.none(), st.just(""), st.sampled_from(
    ["2024", "2024-07", "2024-07-21", "1987-02-29", "2024-02-29", "0000", "0000-00-00", "9999-12-31", "99999",
     "2024-13", "2024-1-1", " 2024 ", "24", "-2024", "२०२४"]), st.text(CHARS, max_size=12))
FILTER = st.one_of(st.none(), st.sampled_from(["CISA", "Reuters", "energy", "Black Sea", "unknown source", ""]),
                   st.text(CHARS, max_size=20), st.lists(st.text(CHARS, max_size=10), max_size=4))
NUMBER = st.one_of(st.integers(-3, 30), st.integers(-(2 ** 70), 2 ** 70), st.sampled_from([0, 1, 100, 101, 10_000]))


def check_results(res: SearchResults, page: int, per_page: int) -> None:
    assert isinstance(res, SearchResults)
    assert res.total >= 0 and len(res.hits) <= per_page
    assert res.page == page and res.per_page == per_page
    assert len(res.hits) <= max(0, res.total - (page - 1) * per_page)
    assert len({hit.id for hit in res.hits}) == len(res.hits)
    for hit in res.hits:
        for fragment in (hit.title_html, hit.snippet):
            assert "<" not in re.sub(r"</?mark>", "", fragment), fragment
    for values in res.facets.values():
        assert all(v.count >= 0 for v in values)
    json.dumps(res.to_dict())  # plain data all the way down


# -- the library ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def index(built_index):
    with SearchIndex.open(built_index) as idx:
        yield idx


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(q=query_text(), source=FILTER, topic=FILTER, date_from=DATES, date_to=DATES,
       sort=st.one_of(st.sampled_from(SORTS), st.text(max_size=8)), page=NUMBER, per_page=NUMBER,
       mode=st.one_of(st.sampled_from(["all", "any"]), st.text(max_size=5)))
def test_library_search_answers_results_or_a_query_error(index, q, source, topic, date_from, date_to, sort,
                                                        page, per_page, mode):
    FUZZED["library"] += 1
    started = time.monotonic()
    try:
        res = index.search(q, source=source, topic=topic, date_from=date_from, date_to=date_to, sort=sort,
                           page=page, per_page=per_page, mode=mode)
    except QueryError as e:
        assert str(e) and "Traceback" not in str(e)
    else:
        check_results(res, page, per_page)
    assert time.monotonic() - started < 10


@settings(max_examples=100, deadline=None)
@given(report_id=st.one_of(st.text(CHARS, max_size=40), st.sampled_from(
    ["native/reuters-grain-2023", "feeds/wire-2024:3", "../../etc/passwd", "", "feeds/wire-2024:"])),
    q=query_text())
def test_library_get_answers_a_report_or_not_found(index, report_id, q):
    from searchapp import ReportNotFoundError

    FUZZED["library get"] += 1
    try:
        detail = index.get(report_id, query=q)
    except (ReportNotFoundError, QueryError) as e:
        assert str(e)
    else:
        assert detail.id == report_id
        assert "<" not in re.sub(r"</?mark>", "", detail.body_html + detail.title_html)


# -- the CLI -------------------------------------------------------------------------------

@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(q=query_text(), options=st.lists(st.one_of(
    st.tuples(st.sampled_from(["--source", "--topic", "--from", "--to", "--sort", "--page", "--per-page"]),
              st.one_of(st.text(CHARS, max_size=12), NUMBER.map(str), st.sampled_from(SORTS))),
    st.tuples(st.sampled_from(["--any", "--json"]))), max_size=4))
def test_cli_search_answers_results_or_one_error_line(built_index, q, options):
    FUZZED["cli"] += 1
    args = ["search", q, "--index", str(built_index)] + [part for option in options for part in option]
    result = CliRunner().invoke(cli_main, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    if result.exit_code == 0 and "--json" in args:
        data = json.loads(result.output)
        assert data["total"] >= 0


# -- the JSON API --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api(built_index):
    from searchapp.config import Settings
    from searchapp.web import create_app

    app = create_app(Settings(index=built_index, max_query_length=1000))
    app.config["TESTING"] = True
    return app.test_client()


PARAMS = st.sampled_from(["q", "q", "q", "source", "topic", "from", "to", "sort", "page", "per_page", "x", "Q", ""])


def check_api_answer(r, index_dir: Path) -> dict:
    assert r.status_code in (200, 400, 404), (r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "application/json"
    data = r.get_json()
    if r.status_code != 200:
        assert set(data) == {"error"} and data["error"]["status"] == r.status_code
        message = data["error"]["message"]
        assert message and "Traceback" not in message and str(index_dir) not in message
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(PARAMS, st.one_of(query_text(HTTP_CHARS), NUMBER.map(str), DATES.map(str))),
                      max_size=6))
def test_api_search_answers_json_200_or_4xx(api, built_index, pairs):
    FUZZED["api"] += 1
    r = api.get("/api/search", query_string=pairs)
    data = check_api_answer(r, built_index)
    if r.status_code == 200:
        assert data["total"] >= 0 and len(data["hits"]) <= data["per_page"]


@settings(max_examples=100, deadline=None)
@given(raw=st.lists(st.tuples(st.sampled_from([b"q", b"source", b"page", b"from", b"q[]", b"%"]), st.binary(max_size=20)),
                    max_size=4))
def test_api_search_with_raw_bytes_in_the_query_string(api, built_index, raw):
    """Percent-encoded bytes that are not UTF-8, and broken escapes."""
    FUZZED["api raw bytes"] += 1
    query = "&".join(quote_from_bytes(k, safe=b"%[]") + "=" + quote_from_bytes(v) for k, v in raw)
    check_api_answer(api.get("/api/search?" + query + "&q=%ff%fe%zz&page=%e0%80"), built_index)


@settings(max_examples=100, deadline=None)
@given(report_id=st.one_of(st.text(HTTP_CHARS, min_size=1, max_size=40), st.sampled_from(
    ["..", "../..", "%2e%2e/%2e%2e/etc/passwd", "native/../native/reuters-grain-2023", "%00", "a%2fb"])))
def test_api_report_answers_json_200_or_404(api, built_index, report_id):
    FUZZED["api reports"] += 1
    r = api.get("/api/reports/" + quote_from_bytes(report_id.encode("utf-8"), safe=b"/%"))
    data = check_api_answer(r, built_index)
    if r.status_code == 200:
        assert data["id"]


# -- pathological queries, bounded ----------------------------------------------------------

@pytest.fixture(scope="module")
def wide_index(tmp_path_factory):
    """600 reports over a 20,000-word vocabulary: where expansions and scans cost."""
    rnd = random.Random(6)
    vocab = sorted({"".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(4, 10)))
                    for _ in range(20_000)})
    base = tmp_path_factory.mktemp("wide")
    lines = [json.dumps({"id": i, "title": " ".join(rnd.sample(vocab, 4)), "date": f"20{10 + i % 15}-01-01",
                         "body": " ".join(rnd.choices(vocab, k=120))}) for i in range(600)]
    (base / "corpus").mkdir()
    (base / "corpus" / "wide.jsonl").write_text("\n".join(lines) + "\n")
    reindex(base / "corpus", base / "index", procs=1)
    with SearchIndex.open(base / "index") as idx:
        yield idx, vocab


def _pathological(vocab: list[str]) -> dict[str, tuple[str, dict]]:
    rnd = random.Random(7)
    words = rnd.sample(vocab, 2000)
    return {
        "10,000-letter word": ("a" * 10_000, {}),
        "100,000 characters": ("word " * 20_000, {}),
        "1,000-letter word": ("b" * 1000, {}),
        "800 OR terms": (" OR ".join(words[:800]), {}),
        "1,000 words (any)": (" ".join(words[:1000]), {"mode": "any"}),
        "900-word phrase": ('"' + " ".join(words[:900]) + '"', {}),
        "leading wildcard *a": ("*a", {}),
        "leading wildcard *a*": ("*a*", {}),
        "10 rare leading wildcards": (" OR ".join(f"*{w[1:4]}*" for w in words[:10]), {}),
        "11 wildcards": (" ".join(f"{w[:3]}*" for w in words[:11]), {}),
        "everything *": ("*", {}),
        "?????": ("?????", {}),
        "4,999 nested parentheses": ("(" * 4999 + "x" + ")" * 4999, {}),
        "1,000 NOTs": ("NOT " * 1000 + words[0], {}),
        "huge page": (words[0], {"page": 10 ** 18}),
        "last allowed page": ("", {"page": 100, "per_page": 100}),
        "date range over all time": ("date:[1000 TO 9999]", {"sort": "oldest"}),
        "misspelled words (suggestions)": (" ".join(w[::-1] for w in words[:150]), {}),
    }


@pytest.mark.slow
def test_pathological_queries_are_bounded_in_time_and_memory(wide_index):
    index, vocab = wide_index
    index.search("*zz*")  # the vocabulary cache of leading wildcards, built once per reader
    rows = []
    for name, (q, kwargs) in _pathological(vocab).items():
        FUZZED["pathological"] += 1
        before = _reset_peak_rss()
        started = time.perf_counter()
        try:
            res = index.search(q, **kwargs)
            outcome = f"{res.total} results"
        except QueryError as e:
            outcome = f"QueryError: {e}"
        elapsed = time.perf_counter() - started
        growth = _peak_rss() - before if before is not None else 0
        rows.append(f"  {name:32} {elapsed * 1000:7.0f} ms  peak RSS +{growth / 2 ** 20:5.1f} MiB  {outcome[:80]}")
        assert elapsed < 10, f"{name}: {elapsed:.1f} s"
        assert growth < 200 * 2 ** 20, f"{name}: {growth / 2 ** 20:.0f} MiB"
    print("\npathological queries on a 20,000-word index:\n" + "\n".join(rows))


def _reset_peak_rss() -> int | None:
    """Reset the process's peak RSS to its current RSS (Linux); the RSS in bytes, or None."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_bytes("VmRSS")


def _peak_rss() -> int:
    return _status_bytes("VmHWM")


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(field)


def test_pathological_queries_get_clear_errors(wide_index):
    index, vocab = wide_index
    cases = {
        "a" * 10_001: "the query is too long: 10001 characters, the limit is 10000",
        "*a*": "'*a*' matches more than 1000 words: make it longer",
        "?*": "'?*' matches more than 1000 words: make it longer",
        " ".join(f"{w[:4]}*" for w in vocab[::1000][:11]): "too many words with * or ?: 11, the limit is 10",
    }
    for q, message in cases.items():
        with pytest.raises(QueryError) as e:
            index.search(q)
        assert str(e.value) == message
    with pytest.raises(QueryError, match="page 1000000000000000000 is too deep"):
        index.search("x", page=10 ** 18)
    assert index.search("*").total == 600  # "*" alone is every report, at once


@pytest.mark.parametrize("args", [["gr\udcffain"], ["", "--source", "x\udcff"], ["", "--from", "2024\udcff"]])
def test_cli_arguments_with_undecodable_bytes_are_one_error_line(built_index, args):
    """A terminal in another encoding passes bytes that are not UTF-8 (they arrive as
    lone surrogates): printing them back (the query, the facet echo) crashed."""
    result = CliRunner().invoke(cli_main, ["search", *args, "--index", str(built_index)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1
    assert result.output.endswith("is not valid text: it holds bytes that are not UTF-8\n"), result.output
