"""WordNet lemmas through nltk, for labels missing from the word-form table (opt-in).

The data is looked up on nltk's data path first (``nltk.download("wordnet")``), then in the
folder named by ``WNSEARCHDIR`` and in Debian's ``wordnet-base`` location. Debian ships no
``lexnames`` file, which nltk's reader needs; it is then written, with the dictionary files, into a
private cache folder that nltk is allowed to read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import warnings
from functools import lru_cache
from pathlib import Path

from scorers.errors import AssetError

__all__ = [
    "DEBIAN_DIRS",
    "WordNetLemmas",
    "lexnames_text",
    "require_wordnet",
    "wordnet_lemmas",
    "wordnet_unavailable_reason",
]

DEBIAN_DIRS: tuple[Path, ...] = (Path("/usr/share/wordnet"),)

_DICT_FILES = tuple(
    f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv")
) + tuple(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv"))

# WordNet's lexicographer files: number, name and syntactic category (1 noun, 2 verb, 3 adj,
# 4 adv), as listed in lexnames(5WN).
_LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
    "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group "
    "noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant "
    "noun.possession noun.process noun.quantity noun.relation noun.shape noun.state "
    "noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
_POS_ORDER = ("n", "v", "a", "r")

_lock = threading.Lock()


def lexnames_text() -> str:
    """The content of WordNet 3.0's ``lexnames`` file (45 tab-separated lines)."""
    return "".join(
        f"{number:02d}\t{name}\t{_CATEGORY[name.split('.')[0]]}\n"
        for number, name in enumerate(_LEXNAMES)
    )


class WordNetLemmas:
    """Lemmas of a word through WordNet's morphology (``morphy``), noun, verb, adjective, adverb."""

    def __init__(self, reader: object) -> None:
        self._reader = reader

    @lru_cache(maxsize=65536)  # noqa: B019 - one instance per process; the cache is the point
    def lemmas(self, word: str) -> tuple[str, ...]:
        """Every distinct lemma of ``word`` other than itself, nouns first.

        Spaces stand for WordNet's underscores.
        """
        form = word.replace(" ", "_")
        found: list[str] = []
        for pos in _POS_ORDER:
            for lemma in self._reader._morphy(form, pos):  # type: ignore[attr-defined]
                lemma = lemma.replace("_", " ")
                if lemma != word and lemma not in found:
                    found.append(lemma)
        return tuple(found)


def _nltk_reader() -> object | None:
    import nltk.data

    try:
        nltk.data.find("corpora/wordnet")
    except LookupError:
        try:
            nltk.data.find("corpora/wordnet.zip")
        except LookupError:
            return None
    from nltk.corpus import wordnet

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wordnet.ensure_loaded()
    return wordnet


def _system_dirs() -> list[Path]:
    dirs = [Path(os.environ["WNSEARCHDIR"])] if os.environ.get("WNSEARCHDIR") else []
    return dirs + list(DEBIAN_DIRS)


def _system_dict() -> Path | None:
    for folder in _system_dirs():
        if all((folder / name).is_file() for name in _DICT_FILES):
            return folder
    return None


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "affectarena"


def _place(source: Path, target: Path) -> None:
    """Put a copy of ``source`` at ``target`` atomically (nltk refuses hard links)."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    shutil.copy2(source, partial)  # keeps the modification time, compared by _is_copy_of
    os.replace(partial, target)


def _is_copy_of(source: Path, copy: Path) -> bool:
    try:
        found, original = copy.stat(), source.stat()
    except OSError:
        return False
    return (found.st_nlink == 1 and found.st_size == original.st_size
            and found.st_mtime_ns == original.st_mtime_ns)


def _readable_root(folder: Path) -> Path:
    """A folder nltk may read holding ``folder``'s dictionary plus a ``lexnames`` file."""
    if (folder / "lexnames").is_file():
        return folder
    lexnames = lexnames_text()
    for root in (_cache_root() / "wordnet", None):
        try:
            target = Path(tempfile.mkdtemp(prefix="affectarena-wordnet-")) if root is None else root
            target.mkdir(parents=True, exist_ok=True, mode=0o700)
            for name in _DICT_FILES:
                source, copy = folder / name, target / name
                if not _is_copy_of(source, copy):
                    _place(source, copy)
            if not (target / "lexnames").is_file():
                partial = target / f".lexnames.{os.getpid()}.part"
                partial.write_text(lexnames, encoding="utf-8")
                os.replace(partial, target / "lexnames")
            return target
        except OSError:
            continue
    raise AssetError(f"cannot prepare the WordNet files of {folder} for nltk (no writable cache)")


def _system_reader(folder: Path) -> object:
    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class EnglishOnlyReader(WordNetCorpusReader):
        def map_wn(self, version: str = "wordnet") -> None:
            # The cross-version synset map serves multilingual lookups only, and needs an
            # index.sense file that Debian's package lacks; morphology does not use it.
            return None

    root = _readable_root(folder)
    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))  # nltk reads corpora only below its data path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available"
        return EnglishOnlyReader(str(root), None)


_loaded: WordNetLemmas | None = None


def wordnet_unavailable_reason() -> str | None:
    """``None`` when WordNet data can be found, else a sentence saying what is missing."""
    import nltk.data

    for resource in ("corpora/wordnet", "corpora/wordnet.zip"):
        try:
            nltk.data.find(resource)
            return None
        except LookupError:
            pass
    if _system_dict() is not None:
        return None
    places = ", ".join(str(p) for p in _system_dirs())
    return (
        "WordNet data not found: neither nltk's data path (nltk.download('wordnet')) nor "
        f"{places} (Debian package wordnet-base) holds it"
    )


def require_wordnet() -> None:
    """Raise ``AssetError`` (saying what to install) when no WordNet data can be found."""
    reason = wordnet_unavailable_reason()
    if reason is not None:
        raise AssetError(
            f"option lemmatize_unknown=true needs WordNet: {reason}; install it or set "
            "lemmatize_unknown=false"
        )


def wordnet_lemmas() -> WordNetLemmas:
    """The process-wide WordNet lemmatiser; ``AssetError`` when no WordNet data is installed."""
    global _loaded
    with _lock:
        if _loaded is None:
            reader = _nltk_reader()
            if reader is None:
                folder = _system_dict()
                if folder is None:
                    require_wordnet()
                    raise AssetError("WordNet data not found")  # found and lost meanwhile
                reader = _system_reader(folder)
            _loaded = WordNetLemmas(reader)
        return _loaded
