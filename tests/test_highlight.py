from searchapp.highlight import ELLIPSIS, highlight_all, snippet


def test_marks_words_as_written_and_escapes_html():
    html = highlight_all("<b>Corrupted</b> officials & corruption", frozenset({"corrupt"}))
    assert html == "&lt;b&gt;<mark>Corrupted</mark>&lt;/b&gt; officials &amp; <mark>corruption</mark>"


def test_hyphenated_phrase_is_one_mark():
    html = highlight_all("a court in Rostov-on-Don sentenced", frozenset({"rostov", "don"}))
    assert "<mark>Rostov-on-Don</mark>" in html


def test_snippet_reaches_past_32k_characters():
    text = "filler words here. " * 3000 + "The Belkov arrest was announced."
    assert len(text) > 50_000
    out = snippet(text, frozenset({"belkov"}))
    assert "<mark>Belkov</mark>" in out
    assert out.startswith(ELLIPSIS)
    assert len(out) < 400


def test_snippet_without_match_is_the_lead():
    out = snippet("Short body.", frozenset({"nothing"}))
    assert out == "Short body."


def test_snippet_has_several_fragments_around_matches():
    text = ("alpha " * 100) + "treason one. " + ("beta " * 100) + "treason two. " + ("gamma " * 100)
    out = snippet(text, frozenset({"treason"}))
    assert out.count("<mark>treason</mark>") == 2
    assert ELLIPSIS in out


def test_british_and_american_spellings_highlight_each_other():
    from searchapp.analysis import stem

    html = highlight_all("The city centre and the Defense ministry", frozenset({stem("center"), stem("defence")}))
    assert html == "The city <mark>centre</mark> and the <mark>Defense</mark> ministry"


def test_snippet_collapses_line_breaks():
    out = snippet("First line\n\n  • second treason line\nthird", frozenset({"treason"}))
    assert "\n" not in out and "<mark>treason</mark>" in out


def test_snippet_spans_give_the_plain_text_and_where_its_matches_are():
    from searchapp.highlight import snippet_spans

    shown = snippet_spans("The <b>Belkov</b> arrest & the Belkov trial", frozenset({"belkov"}))
    assert shown.text == "The <b>Belkov</b> arrest & the Belkov trial"
    assert [shown.text[s:e] for s, e in shown.spans] == ["Belkov", "Belkov"]
    assert shown.to_html() == "The &lt;b&gt;<mark>Belkov</mark>&lt;/b&gt; arrest &amp; the <mark>Belkov</mark> trial"


def test_snippet_spans_follow_the_fragments_cut_and_joined():
    from searchapp.highlight import snippet_spans

    text = ("alpha " * 100) + "treason one. " + ("beta " * 100) + "treason two. " + ("gamma " * 100)
    shown = snippet_spans(text, frozenset({"treason"}))
    assert [shown.text[s:e] for s, e in shown.spans] == ["treason", "treason"]
    assert shown.text.startswith(ELLIPSIS) and shown.text.endswith(ELLIPSIS) and "  " not in shown.text
    assert shown.to_html() == snippet(text, frozenset({"treason"}))


def test_snippet_shows_every_query_word_the_rare_one_too():
    from searchapp.highlight import snippet_spans

    text = ("The ministry awarded grants to farmers. " * 20) + "filler text here. " * 30 + \
        "A report on Mangkhut mentions the province. " + "filler text here. " * 30
    shown = snippet_spans(text, frozenset({"mangkhut", "grant"}))
    marked = [shown.text[s:e] for s, e in shown.spans]
    assert "Mangkhut" in marked and "grants" in marked


def test_snippet_never_shows_a_passage_twice():
    from searchapp.highlight import snippet_spans

    para = "The embargo on treason cases was lifted by the court in spring. "
    text = para + "filler words go here now. " * 40 + para + "other words go here now. " * 40 + para
    shown = snippet_spans(text, frozenset({"treason"}))
    assert shown.text.count("embargo on treason") == 1


def test_a_phrase_marks_the_phrase_only():
    html = highlight_all("The Military Construction Company and another company",
                         frozenset({"militari construct compani"}))
    assert html == "The <mark>Military Construction Company</mark> and another company"


def test_a_dotted_or_hyphenated_token_is_marked_whole_never_inside_a_longer_one():
    html = highlight_all("Patched CVE-2022-3786 and CVE-2022-3602. Not CVE-2022-3602-1", frozenset({"cve 2022 3602"}))
    assert html == "Patched CVE-2022-3786 and <mark>CVE-2022-3602</mark>. Not CVE-2022-3602-1"
    html = highlight_all("The Council's U.S. sanctions", frozenset({"u s", "sanction"}))
    assert html == "The Council's <mark>U.S. sanctions</mark>"  # adjacent marks join as one
    assert highlight_all("an e-mail, email", frozenset({"e mail"})) == "an <mark>e-mail</mark>, email"


def test_fragments_end_on_word_boundaries_never_inside_a_url():
    from searchapp.highlight import snippet_spans

    url = "https://example.org/" + "segment/" * 20 + "page.html"
    text = "words before " * 30 + "The treason trial opened, see " + url + " for the record. " + "words after " * 30
    shown = snippet_spans(text, frozenset({"treason"}))
    assert url not in shown.text and "https" not in shown.text
    for piece in shown.text.split("\u2026"):
        piece = piece.strip()
        if piece:
            assert piece.split()[0] in text.split() and piece.split()[-1] in text.split()
