"""Text for sequence models: vocabularies (characters, words) and corpus readers.

    from layerwise.text import CharVocab, WordVocab, load_corpus
    text = load_corpus("fortunes")            # Debian's fortunes, or any UTF-8 file path
    vocab = CharVocab.build(text)
    ids = vocab.encode("Hello")               # int64 array; vocab.decode(ids) == "Hello"
    vocab.save("vocab.json"); load_vocab("vocab.json")
"""
from .corpus import (FORTUNES_DIR, CorpusNotFoundError, fortune_files, fortunes_text,  # noqa: F401
                     load_corpus, read_fortunes, read_text)
from .vocab import CharVocab, Vocab, WordVocab, load_vocab, vocab_from_dict  # noqa: F401
from .tokenizers import *  # noqa: F401,F403  (char/word/BPE tokenizers, issue 9)
