import datetime as dt

import pytest
from whoosh import query as wq

from searchapp.errors import QueryError
from searchapp.query import bag_of_words, check_fields, date_bounds, parse, positive_terms


def test_all_words_are_required_by_default():
    q = parse("corruption defence")
    assert isinstance(q, wq.And)
    assert {t for _, t in positive_terms(q)} == {"corrupt", "defens"}


def test_hyphenated_word_becomes_a_phrase_of_its_parts():
    q = parse("Rostov-on-Don")
    phrases = [c for c in q.children()]
    assert all(isinstance(p, wq.Phrase) and p.words == ["rostov", "don"] for p in phrases)


def test_minus_excludes_and_not_excludes():
    for text in ("corruption -treason", "corruption NOT treason"):
        q = parse(text)
        assert {t for _, t in positive_terms(q)} == {"corrupt"}


def test_or_and_fields():
    q = parse("title:arrest OR body:treason")
    assert set(positive_terms(q)) == {("title", "arrest"), ("body", "treason")}


@pytest.mark.parametrize(
    "text, first, last",
    [("date:2024", "2024-01-01", "2024-12-31"),
     ("date:2024-02", "2024-02-01", "2024-02-29"),
     ("date:2024-07-28", "2024-07-28", "2024-07-28"),
     ("date:[2024-01 TO 2024-06]", "2024-01-01", "2024-06-30"),
     ("date:[2023 TO]", "2023-01-01", None)],
)
def test_date_field_means_whole_days(text, first, last):
    q = parse(text)
    assert isinstance(q, wq.TermRange)
    assert (q.start, q.end) == (first, last)


def test_source_and_topic_resolve_case_insensitively():
    values = {"source": ["UK Ministry of Defence", "Reuters"], "topic": ["crude"]}

    def resolve(field, text):
        return [v for v in values[field] if v.lower() == text.lower()]

    assert parse("source:reuters", resolve=resolve) == wq.Term("source", "Reuters")
    q = parse("topic:CRUDE", resolve=resolve)
    assert set(q.children()) == {wq.Term("topic", "crude"), wq.Term("topic_auto", "crude")}
    assert parse("source:nobody", resolve=resolve) is wq.NullQuery


@pytest.mark.parametrize(
    "text, message",
    [("nosuchfield:x", "unknown field 'nosuchfield' in the query; the fields are title:, body:, source:, topic:, date:, author:, language:, person:, org:, place:"),
     ("Title:x", "field names are lower case: write title: instead of Title:"),
     ("date:2024-13", "not a date: '2024-13' (month must be in 1..12)"),
     ("date:yesterday", "not a date: 'yesterday' (use YYYY, YYYY-MM or YYYY-MM-DD)")],
)
def test_bad_queries_name_the_problem(text, message):
    with pytest.raises(QueryError) as e:
        parse(text)
    assert str(e.value) == message


def test_urls_and_quoted_colons_are_not_fields():
    check_fields('see http://example.org and "ratio 3:1"')


def test_bag_of_words_ignores_syntax():
    q = bag_of_words('What AND "why"? title: corruption corruption -x')
    terms = {t for _, t in positive_terms(q)}
    # "-x" is not an exclusion, "title:" not a field, the quotes not a phrase.
    assert terms == {"corrupt", "titl", "x"}
    assert not any(isinstance(leaf, (wq.Phrase, wq.Not)) for leaf in q.leaves())


def test_date_bounds():
    assert date_bounds("2023") == (dt.date(2023, 1, 1), dt.date(2023, 12, 31))


@pytest.mark.parametrize(
    "text, message",
    [("title:(", "title: at character 1 has nothing to search: write a word after it, as in title:word"),
     ("source:", "source: at character 1 has nothing to search: write a word after it, as in source:word"),
     ("AND", 'AND at character 1 has no word after it: write it between two words, as in oil AND gas, '
             'or search for "and"'),
     ("OR gas", "OR at character 1 has no word before it: write it between two words, as in oil OR gas"),
     ("((((", "the bracket at character 1 is not closed: add a ) after its words"),
     ("oil (gas", "the bracket at character 5 is not closed: add a ) after its words"),
     ("oil) gas", "the bracket at character 4 closes nothing: remove it or add a ( before it"),
     ("oil ()", "the brackets at character 5 hold nothing: put words inside or remove them"),
     ('"Military Construction', 'the quote at character 1 is not closed: end the phrase with another "'),
     ("date:[2025 TO 2023]", "the date range [2025 TO 2023] starts after it ends: "
                             "write the earlier date first, as in [2023 TO 2025]"),
     ("date:[2024 TO", "the range at character 6 is not closed: write it as [2023 TO 2024]"),
     ("y (x +)", "the + at character 6 has no word after it: write +word, without a space")],
)
def test_unreadable_queries_name_the_problem_and_where(text, message):
    with pytest.raises(QueryError) as e:
        parse(text)
    assert str(e.value) == message


@pytest.mark.parametrize(
    "text",
    ["corruption (defence OR treason)", 'title:"Military Construction"', "date:[2023 TO]", "NOT oil",
     "oil AND NOT gas", "Rostov-on-Don", "oil -gas", "see http://example.org/a", "e-mail U.S.", "a + b"],
)
def test_readable_queries_pass_the_syntax_check(text):
    parse(text)


def test_short_queries_require_every_word():
    q = parse("oil gas prices")
    assert type(q) is wq.And and len(q.subqueries) == 3


def test_long_queries_need_a_share_of_their_words_each_weighed_as_often_as_written():
    from searchapp.engine.arrays import AtLeast

    q = parse("information retrieval of information in libraries systems")
    assert isinstance(q, AtLeast) and q.minimum == 1
    assert {(s.text, s.boost) for s in q.subqueries} == {("inform", 2), ("retriev", 1), ("librari", 1), ("system", 1)}
    # one word in twenty (query.SHARE_BEYOND)
    assert parse(" ".join(f"word{i}" for i in range(39))).minimum == 1
    assert parse(" ".join(f"word{i}" for i in range(40))).minimum == 2


def test_long_queries_with_a_field_or_an_exclusion_stay_strict():
    assert type(parse("oil gas prices rise title:opec")) is wq.And
    assert not isinstance(parse("oil gas prices rise -opec"), wq.Or)
