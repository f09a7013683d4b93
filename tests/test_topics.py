"""Automatic topics: the taxonomy, the learned model, topic spellings, the tagger's rule."""

import random
from pathlib import Path

import numpy as np
import pytest

from searchapp import topics
from searchapp.corpus import discover, parse_file
from searchapp.errors import ConfigError
from searchapp.report import Report
from searchapp.topics import learned

from .conftest import SEED_CORPUS


# -- synthetic reports for the learned tagger -------------------------------------------

WORDS = {
    "volcanology": ["lava", "magma", "crater", "caldera", "vent", "tephra", "pyroclastic", "fissure"],
    "football": ["striker", "midfielder", "referee", "goalkeeper", "league", "penalty", "stadium", "fixture"],
    "banking": ["lender", "mortgage", "deposit", "overdraft", "borrower", "branch", "savings", "loan"],
}
FILLER = ["report", "week", "local", "people", "year", "region", "morning", "update", "group", "plan"]


def _text(rng: random.Random, topic: str, n: int = 40) -> str:
    return " ".join(rng.choice(WORDS[topic]) if rng.random() < 0.5 else rng.choice(FILLER) for _ in range(n))


def _synthetic(count_per_topic: int, seed: int = 0, curated: bool = True, prefix: str = "s") -> list[dict]:
    rng = random.Random(seed)
    out = []
    for topic in sorted(WORDS):
        for i in range(count_per_topic):
            out.append({"id": f"{prefix}-{topic}-{i}", "date": "2024-01-02", "source": "Synthetic",
                        "title": f"{topic} note {i}", "body": _text(rng, topic),
                        "topics": [topic] if curated else []})
    return out


def _seed_report() -> Report:
    files, _ = discover(SEED_CORPUS)
    return next(r for r in parse_file(files[0]) if isinstance(r, Report))


# -- the taxonomy ------------------------------------------------------------------------

def test_seed_report_gets_corruption_defence_and_espionage():
    report = _seed_report()
    found = topics.Taxonomy.load().match(report.title, report.body)
    assert {"crime and corruption", "conflict and defence", "espionage and security"} <= set(found)
    assert len(found) <= 4
    assert "cyber security" not in found and "health" not in found


@pytest.mark.parametrize("title, body, expected", [
    ("Ransomware hits pipeline", "Hackers used phishing and a known vulnerability; the malware encrypted servers.",
     ("cyber security",)),
    ("Flooding after cyclone", "The cyclone brought floods and a landslide; evacuation of the coast began.",
     ("disasters",)),
    ("Quarterly note", "The committee met on Tuesday and agreed the minutes.", ()),
])
def test_taxonomy_matches_on_stems_and_needs_several_words(title, body, expected):
    assert topics.Taxonomy.load().match(title, body) == expected


def test_phrases_match_words_in_a_row_only():
    tax = topics.Taxonomy([("rights", ["human rights", "repression"])], min_score=2)
    assert tax.match("", "Human rights groups decry repression") == ("rights",)
    assert tax.match("", "Rights of humans, and repression") == ()  # "human rights" not in a row
    assert tax.scores("", "human rights, human rights")["rights"] == (2.0, 1)


def test_title_matches_weigh_more_and_long_reports_need_density():
    tax = topics.Taxonomy([("energy", ["oil", "pipeline"])], min_score=3, per_1000=2)
    assert tax.match("Oil pipeline", "") == ("energy",)  # 2 words x title weight 2
    assert tax.match("", "oil pipeline") == ()
    long_body = "oil pipeline oil " + "word " * 3000
    assert tax.match("", long_body) == ()  # 3 matches in 3,003 terms: under 2 per 1,000


def test_shipped_taxonomy_has_the_expected_topics():
    tax = topics.Taxonomy.load()
    for name in ("politics and government", "conflict and defence", "crime and corruption",
                 "espionage and security", "economy and business", "energy", "health",
                 "science and technology", "cyber security", "law and justice", "disasters",
                 "human rights"):
        assert name in tax.names


BAD_TAXONOMIES = [
    ('[[topic]]\nname = "energy"\nwords = ["oil" "gas"]\n',
     r"^bad\.toml: not valid TOML: Unclosed array \(at line 3, column 16\)$"),
    ('[[topic]]\nname = "energy"\nwords = ["oil"]\n\n[[topic]]\nname = "sport"\nword = ["goal"]\n',
     r"^bad\.toml, line 5: topic 'sport': unknown key 'word' \(a topic has 'name' and 'words'\)$"),
    ('[[topic]]\nname = "energy"\nwords = []\n',
     r"^bad\.toml, line 1: topic 'energy': needs 'words': a non-empty list of words and phrases \(text\)$"),
    ('[[topic]]\nname = "energy"\nwords = [\n  "oil",\n  "the",\n]\n',
     r"^bad\.toml, line 5: topic 'energy': the word 'the' has no index terms \(only stopwords or punctuation\)$"),
    ('[[topic]]\nname = "energy"\nwords = ["oil"]\n[[topic]]\nname = "Energy"\nwords = ["gas"]\n',
     r"^bad\.toml, line 4: topic 'Energy': the name is used twice \(first at topic number 1\)$"),
    ('[[topic]]\nname = "oil, gas"\nwords = ["oil"]\n',
     r"^bad\.toml, line 1: topic 'oil, gas': a topic name cannot contain a comma$"),
    ('[[topic]]\nwords = ["oil"]\n',
     r"^bad\.toml, line 1: topic number 1: needs a 'name' \(text\)$"),
    ('[settings]\nmax_topics = 0\n',
     r"^bad\.toml: setting 'max_topics' must be a whole number of at least 1, got 0$"),
    ('[settings]\nmin_scor = 2\n', r"^bad\.toml: unknown setting 'min_scor' in \[settings\]"),
    ('[topics]\nenergy = ["oil"]\n', r"^bad\.toml: unknown key 'topics' \(expected \[settings\] and \[\[topic\]\] tables\)$"),
]


@pytest.mark.parametrize("text, message", BAD_TAXONOMIES)
def test_a_bad_taxonomy_is_a_clear_error_naming_the_line_or_topic(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    Path("bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        topics.Taxonomy.load("bad.toml")


def test_a_missing_taxonomy_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"^cannot read the topic taxonomy .*nope\.toml: "):
        topics.Taxonomy.load(tmp_path / "nope.toml")


def test_an_empty_taxonomy_tags_nothing():
    assert topics.Taxonomy.from_toml("").match("Oil pipeline", "oil gas pipeline") == ()


# -- the learned tagger -------------------------------------------------------------------

def _learner(records: list[dict]) -> topics.TopicLearner:
    learner = topics.TopicLearner()
    for r in records:
        learner.add(r["id"], r["title"], r["body"], r["topics"])
    return learner


def test_learned_tagger_predicts_the_topics_it_was_taught():
    model = _learner(_synthetic(10)).fit()
    assert model is not None and model.labels == ("banking", "football", "volcanology")
    rng = random.Random(99)
    for topic in WORDS:
        for _ in range(5):
            assert model.predict("", _text(rng, topic)) == (topic,)
    assert model.predict("", "report week local people year region") == ()  # filler only
    assert model.predict("", "") == ()


def test_learned_tagger_needs_enough_curated_reports():
    assert _learner(_synthetic(6)[: topics.MIN_TRAINING_REPORTS - 1]).fit() is None
    # A topic on fewer than MIN_LABEL_REPORTS reports is not learned; the others are.
    records = _synthetic(10)
    records[0]["topics"] = ["rare"]
    records[1]["topics"] = ["banking", "rare"]
    model = _learner(records).fit()
    assert "rare" not in model.labels and "banking" in model.labels


def test_learned_model_is_deterministic_and_order_free():
    records = _synthetic(10)
    first = _learner(records).fit()
    again = _learner(list(reversed(records))).fit()
    assert first.fingerprint() == again.fingerprint()
    assert np.array_equal(first.coef, again.coef) and np.array_equal(first.threshold, again.threshold)


def test_learning_is_bounded_to_a_sample_and_the_most_frequent_topics(monkeypatch):
    # issue 5: a corpus with many curated reports and topics learns from a
    # fixed-size sample (the lowest id hashes, whatever the order) and its
    # most frequent topics only.
    records = _synthetic(20)
    for r in records[:8]:
        r["topics"].append("extra")
    monkeypatch.setattr(learned, "MAX_TRAINING_REPORTS", 45)
    monkeypatch.setattr(learned, "MAX_LEARNED_LABELS", 3)
    learner, backwards = _learner(records), _learner(list(reversed(records)))
    assert len(learner) == 60 and learner.sampled == backwards.sampled == 45
    model = learner.fit()
    assert model.labels == ("banking", "football", "volcanology")  # "extra" (8 reports) is the 4th
    assert model.fingerprint() == backwards.fit().fingerprint()


def test_topics_fitted_side_by_side_give_the_same_model():
    learner = _learner(_synthetic(10))
    assert learner.fit(procs=2).fingerprint() == learner.fit(procs=1).fingerprint()


def _vocabulary(*pairs) -> topics.TopicVocabulary:
    vocabulary = topics.TopicVocabulary()
    for source, labels in pairs:
        vocabulary.add(source, labels)
    return vocabulary


def test_learned_topics_stay_in_their_sources_vocabulary_and_others_get_the_taxonomy():
    model = _learner(_synthetic(10)).fit()
    tax = topics.Taxonomy([("geology", ["lava", "magma", "crater"])], min_score=2)
    vocabulary = _vocabulary(("Survey", ["volcanology", "Banking"]), ("League", ["football"]))
    tagger = topics.TopicTagger(tax, model, vocabulary)
    text = _text(random.Random(3), "volcanology")
    assert model.predict("", text) == ("volcanology",)
    assert tagger.tag("", text, "Survey") == ("volcanology",)  # its own vocabulary, no taxonomy
    assert tagger.tag("", text, "League") == ()  # "volcanology" is not one of League's topics
    assert tagger.tag("", text, "Blog") == ("geology",)  # no curated topics: the taxonomy's only
    assert tagger.tagged == 2
    # A source none of whose topics the model learned gets the taxonomy's.
    assert topics.TopicTagger(tax, None, vocabulary).topics("", text, "Survey") == ("geology",)
    only_rare = _vocabulary(("Survey", ["rare"]))
    assert topics.TopicTagger(tax, model, only_rare).topics("", text, "Survey") == ("geology",)


def test_topic_values_differing_by_case_or_spacing_are_one_in_the_most_used_spelling():
    assert topics.topic_key(" Critical  Manufacturing") == topics.topic_key("critical manufacturing")
    assert topics.spellings({"energy": 2, "Energy": 5, " Water ": 1}) == {
        "energy": "Energy", "Energy": "Energy", " Water ": "Water"}
    vocabulary = _vocabulary(("CISA", ["Energy", "Water"]), ("CISA", ["Energy"]), ("Reuters", ["energy"]))
    assert vocabulary.spell_all(["energy", "ENERGY ", "water", "new  topic"]) == ("Energy", "Water", "new topic")
    tagger = topics.TopicTagger(topics.Taxonomy([]), None, vocabulary)
    assert tagger.curated("energy,water") == "Energy,Water"


def test_the_learner_learns_spellings_of_one_topic_as_one_label():
    records = _synthetic(10)
    for r in records[:4]:
        r["topics"] = [r["topics"][0].upper()]  # 4 "BANKING", 6 "banking"
    model = _learner(records).fit()
    assert model.labels == ("banking", "football", "volcanology")


def test_a_topic_that_cannot_be_predicted_precisely_enough_is_not_learned():
    records = _synthetic(20)
    rng = random.Random(5)
    for r in records:  # "noise" on a random third of the reports: no word signals it
        if rng.random() < 0.33:
            r["topics"].append("noise")
    model = _learner(records).fit()
    assert model.labels == ("banking", "football", "volcanology")


def test_a_vocabulary_less_the_replaced_reports_counts_each_topic_exactly():
    vocabulary = topics.TopicVocabulary({"CISA": {"Energy": 1, "energy": 5, "Water": 1}, "Reuters": {"oil": 2}})
    # As stored: "energy" from a report that said "Energy"; "WATER" in no spelling the source used.
    less = vocabulary.without(topics.TopicVocabulary({"CISA": {"energy": 2, "WATER": 1}, "Elsewhere": {"x": 1}}))
    assert less.to_json() == {"CISA": {"energy": 4}, "Reuters": {"oil": 2}}
    assert vocabulary.to_json()["CISA"] == {"Energy": 1, "Water": 1, "energy": 5}  # unchanged
    assert less.without(topics.TopicVocabulary({"CISA": {"Energy": 4}})).to_json() == {"Reuters": {"oil": 2}}
    # A file rewritten: its 10 reports counted again as written, less as stored (all "banking").
    again = topics.TopicVocabulary({"S": {"Banking": 6, "banking": 14}})
    assert again.without(topics.TopicVocabulary({"S": {"banking": 10}})).to_json() == {"S": {"Banking": 3, "banking": 7}}


def test_the_training_key_changes_only_with_what_the_model_learns():
    fields = {"id": "a", "title": "T", "body": "words " * 10, "topic": "Energy,water", "source": "S", "file": "x"}
    key = topics.training_key(fields)
    same = {**fields, "topic": "water,energy", "file": "y", "date": "2024-01-01", "filesig": "y\t1:2"}
    assert topics.training_key(same) == key  # another spelling, order, file or date: the same
    long_body = {**fields, "body": "b" * topics.MAX_TRAINING_CHARS}
    assert topics.training_key({**long_body, "body": long_body["body"] + "more"}) == topics.training_key(long_body)
    for change in ({"title": "U"}, {"body": "other"}, {"topic": "energy"}, {"source": "R"}):
        assert topics.training_key({**fields, **change}) != key, change
