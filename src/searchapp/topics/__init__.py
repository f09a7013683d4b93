"""Topics for reports that carry none: a shipped taxonomy and a model learned from the corpus.

A report's own topics (header, front matter, JSON) are *curated* and always
win. A report without any gets *automatic* topics (the ``topic_auto`` field):

* from the learned model (:mod:`.learned`, fitted in :mod:`.fitting`) when its
  source carries curated topics, and only topics of that source's own
  curated vocabulary (:mod:`.tagger`);
* from the taxonomy (:mod:`.taxonomy`, ``topics.toml``) when its source
  carries none.

Topic values that differ only by case or spacing are one topic
(:mod:`.names`). :mod:`.state` keeps the tagger in an index generation;
:mod:`.reindex` is the topic side of a reindex; :mod:`.counting` counts
topics in an index.
"""

from .counting import TopicCount, count_tagged, count_topics
from .fitting import CV_FOLDS, MIN_CV_F1, MIN_CV_PRECISION, SVM_C
from .learned import (MAX_LEARNED_LABELS, MAX_LEARNED_TOPICS, MAX_TRAINING_REPORTS, MIN_LABEL_REPORTS,
                      MAX_TRAINING_CHARS, MIN_TRAINING_REPORTS, TITLE_WEIGHT, LearnedModel, TopicLearner,
                      training_key)
from .names import TopicVocabulary, labels_of, spellings, topic_key
from .reindex import RETRAIN_SHARE, ReindexTopics
from .state import MODEL_FILE, STATE_FILE, SavedTopics, load_saved
from .tagger import TaggingWriter, TopicTagger
from .taxonomy import DEFAULT_TAXONOMY, TAXONOMY_SETTINGS, Taxonomy

__all__ = [
    "CV_FOLDS", "DEFAULT_TAXONOMY", "MAX_LEARNED_LABELS", "MAX_LEARNED_TOPICS", "MAX_TRAINING_CHARS",
    "MAX_TRAINING_REPORTS",
    "MIN_CV_F1", "MIN_CV_PRECISION", "MIN_LABEL_REPORTS", "MIN_TRAINING_REPORTS", "MODEL_FILE", "RETRAIN_SHARE", "STATE_FILE",
    "SVM_C", "TAXONOMY_SETTINGS", "TITLE_WEIGHT", "LearnedModel", "ReindexTopics", "SavedTopics",
    "TaggingWriter", "TopicCount", "TopicLearner", "TopicTagger", "TopicVocabulary", "Taxonomy",
    "count_tagged", "count_topics", "labels_of", "load_saved", "spellings", "topic_key", "training_key",
]
