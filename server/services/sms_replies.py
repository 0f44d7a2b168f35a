"""Understand what a patient answers by SMS to an appointment reminder.

The reminder asks the patient to answer ``JA`` (or ``1``) to confirm, ``NEI`` (or
``2``) to cancel, ``RING`` to be called, and ``STOPP`` to stop SMS reminders.
People answer in their own words, so :func:`parse_reply` turns a free-text reply
into one :class:`ReplyIntent`. It is a pure function (no app, no database, stdlib
only); storing the reply, acting on it once and sending the help text for
:attr:`ReplyIntent.UNKNOWN` belong to the caller.

How a reply is read
===================

1. **Normalise.** Unicode NFKC (so full-width ``１`` and ``①`` become ``1``),
   remove invisible characters (variation selectors U+FE0E/U+FE0F, zero-width
   characters, the keycap mark U+20E3 of ``1️⃣``, and the skin-tone modifiers
   U+1F3FB-U+1F3FF, so ``👍🏽`` is ``👍``), then casefold.
2. **Split into tokens.** Letters and digits make words; apostrophes are dropped
   inside words (``can't`` -> ``cant``, ``I'm`` -> ``im``); spaces and hyphens
   separate words; every other punctuation mark (``. , ! ? ; : " « » ( )`` ...,
   including text smileys such as ``:)``) ends a *sentence*; each emoji or other
   symbol is a token of its own, even when written next to a word (``ja👍``).
3. **Forgive stretched letters, within reason.** A run of up to
   :data:`MAX_STRETCH` of the same letter counts as one letter on both sides of
   the comparison, so ``Jaaa`` is ``ja``, ``neei`` is ``nei`` and ``kommmer`` is
   ``kommer``. A longer run (``jaaaaaaaaaa``), or a word longer than
   :data:`MAX_WORD`, is not understood: it is as likely a pocket or a cat as a
   yes, and a person reads it. Digits are never collapsed (``11`` is not
   ``1``). The vocabulary is checked at import time so that no two meanings
   collapse to the same key.
4. **Cover every token.** Within each sentence, known phrases are matched
   greedily from the left, longest first (so ``kommer ikke`` is one *cancel*
   phrase, not *confirm* + ``ikke``; ``no more sms`` is *stop*, not ``no``).
   A phrase either carries an intent (``ja``, ``jeg kommer``, ``kan ikkje``,
   ``ring meg``, ``stopp sms``, ``👍`` ...) or is *politeness* that may only
   accompany certain intents (``hei``, ``takk``, ``please``, ``🙂`` go with
   anything; ``dessverre``, ``beklager``, ``sorry``, ``😢`` only with cancel or
   call; ``gleder meg``, ``som avtalt`` only with confirm). Phrases never span a
   punctuation mark.

The phrase rule
===============

A reply gets an intent only when **every** token is understood, the reply has at
most :data:`MAX_TOKENS` tokens, **exactly one** intent occurs in it (repeating
it is fine: ``ja ja``, ``👍👍``, ``nei, kan ikke``), and every politeness phrase
fits that intent. This is stricter than "find a keyword in the sentence": a long
or free-text message that merely *contains* ``ja`` or ``ring`` somewhere
(``ja men kan ikke``, ``takk for påminnelsen``, ``kommer i morgen``, ``ikke
ring meg``, a signature with a name) is :attr:`ReplyIntent.UNKNOWN`, so the
patient gets the short help text and staff can read what was written. Wrongly
cancelling or stopping reminders is worse than asking once more.

Deliberate choices
==================

* ``ok``/``okei``/``okay``/``greit``/``klart``/``sees`` confirm: in answer to
  "are you coming?" they mean yes. ``ok`` together with a cancel word is
  ambiguous, hence UNKNOWN.
* Any mix of intents is UNKNOWN, also ``nei, ring meg`` and ``kan ikke, ring
  meg``: we return one intent and must not guess which one the patient meant.
* The digits ``1`` and ``2`` confirm and cancel (also as ``1.``, ``1️⃣``,
  ``１``); every other number, and ``1 2``, is UNKNOWN.
* Time words (``i dag``, ``i morgen``, ``tomorrow``) are not understood:
  ``kommer i morgen`` may mean "I'll come tomorrow instead".
* **STOP is precise.** Only ``stopp``/``stop`` alone or followed by what to stop
  (``stopp sms``, ``stopp alle påminnelser``, ``stop reminders``),
  ``avslutt sms``/``avslutt varsler``, ``unsubscribe``, ``no more sms`` and
  ``ikke send (meg) flere sms``. Bare ``avslutt`` is UNKNOWN (it could mean
  "cancel the appointment" or even "end treatment"), so are inflected forms
  (``stopper``, ``stoppe``) and the stop-sign emoji 🛑 ⛔.
* ``takk``, ``hei`` or ``🙂`` alone carry no intent and are UNKNOWN.
* ``TEAM`` (``teamet``, ``mitt team``, ``koordinator``, ``my team`` ...) asks who the
  coordinator is; it is answered whatever the latest SMS was about.
* ``🙂 😊`` are politeness, not confirmation; only clear emoji carry an intent:
  👍 ✅ ✔️ ☑️ ✓ 👌 🆗 confirm, 👎 ❌ ❎ ✖️ ✗ ✘ 🚫 cancel, 📞 ☎️ ☏ 📱 📲 call.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["MAX_CHARS", "MAX_STRETCH", "MAX_TOKENS", "MAX_WORD", "ReplyIntent", "parse_reply"]


class ReplyIntent(enum.Enum):
    """What a patient wants, as understood from an SMS reply."""

    CONFIRM = "confirm"
    CANCEL = "cancel"
    CALL_ME = "call_me"
    STOP = "stop"
    TEAM = "team"  # "who is my coordinator?": answered with the name and number
    UNKNOWN = "unknown"


#: Replies with more tokens than this are read by people, not by the parser.
MAX_TOKENS = 10
#: Longer texts are not even tokenised (no real answer is this long).
MAX_CHARS = 300
#: A letter repeated more times than this in a row is not a stretched word any more.
MAX_STRETCH = 5
#: No word in the vocabulary is near this long; a longer "word" is not understood.
MAX_WORD = 24

_CONFIRM = ReplyIntent.CONFIRM
_CANCEL = ReplyIntent.CANCEL
_CALL = ReplyIntent.CALL_ME
_STOP = ReplyIntent.STOP
_TEAM = ReplyIntent.TEAM


@dataclass(frozen=True)
class _Meaning:
    """A known phrase: it carries ``intent``, or it is politeness allowed with ``companions``."""

    intent: ReplyIntent | None = None
    companions: frozenset[ReplyIntent] = frozenset()


# --- normalisation -----------------------------------------------------------------------------------

# Removed before anything else: variation selectors, zero-width characters, the keycap
# combining mark (1️⃣ -> 1) and the emoji skin-tone modifiers U+1F3FB-U+1F3FF.
_INVISIBLE = re.compile("[\ufe0e\ufe0f\u200b-\u200d\u2060\ufeff\u00ad\u20e3\U0001f3fb-\U0001f3ff]")
_APOSTROPHES = frozenset("'\u2019\u2018\u02bc`\u00b4")
_STRETCHED = re.compile(r"([^\W\d_])\1+")
_OVERSTRETCHED = re.compile(rf"([^\W\d_])\1{{{MAX_STRETCH},}}")


def _sentences(text: str) -> list[list[str]]:
    """Split normalised ``text`` into sentences of tokens (see the module docstring)."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    sentences: list[list[str]] = []
    tokens: list[str] = []
    word: list[str] = []

    def end_word() -> None:
        if word:
            tokens.append("".join(word))
            word.clear()

    def end_sentence() -> None:
        end_word()
        if tokens:
            sentences.append(tokens.copy())
            tokens.clear()

    for char in text:
        category = unicodedata.category(char)
        if char in _APOSTROPHES:
            continue
        if char.isalnum() or category.startswith("M"):
            word.append(char)
        elif char in "\n\r":
            end_sentence()
        elif char.isspace() or category == "Pd":
            end_word()
        elif category.startswith("P") or category in ("Sm", "Sk"):
            end_sentence()
        else:  # emoji and any other symbol: a token of its own
            end_word()
            tokens.append(char)
    end_sentence()
    return sentences


def _key(token: str) -> str:
    """The form used for matching: runs of one repeated letter count as one letter."""
    return _STRETCHED.sub(r"\1", token)


# --- vocabulary ---------------------------------------------------------------------------------------

_PHRASES: dict[tuple[str, ...], _Meaning] = {}


def _add(phrases: Iterable[str], meaning: _Meaning) -> None:
    for phrase in phrases:
        sentences = _sentences(phrase)
        if len(sentences) != 1:
            raise ValueError(f"vocabulary phrase must be one sentence: {phrase!r}")
        key = tuple(_key(token) for token in sentences[0])
        if _PHRASES.get(key, meaning) != meaning:
            raise ValueError(f"vocabulary phrase {phrase!r} collides with another meaning")
        _PHRASES[key] = meaning


def _with_subjects(subjects: Iterable[str], predicates: Iterable[str]) -> list[str]:
    """Each predicate alone and after each subject: ``kommer``, ``jeg kommer``, ``eg kommer`` ..."""
    predicates = list(predicates)
    return predicates + [f"{subject} {predicate}" for subject in subjects for predicate in predicates]


# fmt: off
_NO_SUBJECTS = ("jeg", "eg", "æ")  # bokmål, nynorsk, northern/central dialects
_EN_SUBJECTS = ("i",)

_add(
    [
        # bokmål / nynorsk
        "ja", "jo", "jau", "jepp", "japp", "jupp", "jada", "joda", "jaja",
        "ok", "okei", "okey", "oki", "okay", "greit", "det er greit", "klart", "selvfølgelig",
        "sjølvsagt", "selvsagt", "sees", "vi sees", "bekreft", "bekreftet", "bekrefta",
        "passer", "det passer", "passer bra", "det passer bra", "passer fint", "det passer fint",
        "passar", "det passar", "passar bra", "det passar bra",
        *_with_subjects(_NO_SUBJECTS, ["kommer", "kjem", "møter", "møter opp", "stiller",
                                       "bekrefter", "kommer dit", "kjem dit"]),
        # English
        "yes", "y", "yeah", "yep", "yup", "sure", "of course", "confirm", "confirmed",
        "coming", "im coming", "i am coming", "will come", "ill come", "i will come", "ill be there",
        "i will be there", "will be there", "see you", "see you there", "see you soon",
        *_with_subjects(_EN_SUBJECTS, ["confirm"]),
        # number and emoji
        "1", "👍", "✅", "✔", "☑", "✓", "👌", "🆗",
    ],
    _Meaning(_CONFIRM),
)

_add(
    [
        # bokmål / nynorsk
        "nei", "nope", "avlys", "avlyse", "avlysa", "avlys timen", "avlys time", "avlys timen min",
        "avbestill", "avbestill timen", "avbestille", "passer ikke", "det passer ikke", "passer dårlig",
        "det passer dårlig", "passar ikkje", "det passar ikkje", "passar dårleg", "det passar dårleg",
        *_with_subjects(_NO_SUBJECTS, [
            "kommer ikke", "kjem ikkje", "kommer ikkje", "kan ikke", "kan ikkje", "kan ikke komme",
            "kan ikkje kome", "kan ikkje komme", "klarer ikke", "klarer ikke komme", "klarar ikkje",
            "klarar ikkje kome", "rekker ikke", "rekker det ikke", "rekk ikkje", "rekk det ikkje",
            "får ikke kommet", "får ikkje kome", "møter ikke", "møter ikkje", "må avlyse", "må avlysa",
            "avlyser", "avbestiller",
        ]),
        # English
        "no", "n", "nah", "cancel", "cancel it", "cancel appointment", "cancel the appointment",
        "cancel my appointment", "not coming", "cant", "cannot", "cant come", "cannot come", "can not come",
        "cant make it", "cannot make it", "wont come", "wont make it", "im not coming", "i am not coming",
        "i will not come", "i will not make it",
        *_with_subjects(_EN_SUBJECTS, ["cant", "cannot", "cant come", "cannot come", "can not come",
                                       "cant make it", "cannot make it", "wont come", "wont make it"]),
        # number and emoji
        "2", "👎", "❌", "❎", "✖", "✗", "✘", "🚫",
    ],
    _Meaning(_CANCEL),
)

_add(
    [
        # bokmål / nynorsk
        "ring", "ring meg", "ring meg opp", "ring opp", "ring tilbake", "ring meg tilbake", "ringe",
        "ringe meg", "ringje", "ringje meg", "ring meg gjerne", "kan du ringe", "kan du ringe meg",
        "kan dere ringe meg", "kan de ringe meg", "kan du ringje meg", "kan de ringje meg",
        "kan dykk ringje meg", "vil bli ringt", "vil bli oppringt", "ønsker å bli ringt",
        # English
        "call", "call me", "call me back", "call back", "ring me", "phone me",
        "give me a call", "can you call me", "could you call me",
        # emoji
        "📞", "☎", "☏", "📱", "📲",
    ],
    _Meaning(_CALL),
)

_STOP_OBJECTS = (
    "sms", "smser", "smsene", "sms ene", "sms ane", "tekstmeldinger", "meldinger", "meldingene",
    "meldingar", "meldingane", "varsler", "varslene", "varsel", "varsling", "varslar", "varsla",
    "påminnelser", "påminnelsene", "påminnelse", "påminninger", "påminningar", "påminningane",
    "påminning", "reminders", "reminder", "messages", "texts", "text messages", "notifications",
)
_add(
    [
        "stopp", "stop", "unsubscribe",
        *(f"{verb} {every}{thing}" for verb in ("stopp", "stop", "avslutt")
          for every in ("", "alle ", "all ") for thing in _STOP_OBJECTS),
        *(f"no more {thing}" for thing in ("sms", "messages", "texts", "reminders")),
        *(f"{do_not} send {me}{more}sms" for do_not in ("ikke", "ikkje") for me in ("", "meg ")
          for more in ("", "flere ", "fleire ")),
        "send ikke flere sms", "send ikkje fleire sms",
    ],
    _Meaning(_STOP),
)

# TEAM (bokmål, nynorsk, English): the coordinator's name and number come back by SMS.
_add(
    [
        "team", "teamet", "mitt team", "teamet mitt", "my team", "care team", "the team",
        "koordinator", "koordinatoren", "min koordinator", "koordinatoren min", "coordinator",
        "my coordinator", "who is my coordinator",
    ],
    _Meaning(_TEAM),
)

# Politeness: carries no intent of its own, but may accompany the intents given.
_add(
    [
        "hei", "heisann", "hallo", "hei hei", "god morgen", "god dag", "hi", "hello", "hey",
        "takk", "tusen takk", "mange takk", "takk skal du ha", "takk skal dere ha", "takker",
        "thanks", "thank you", "thank you very much", "thx", "please", "pls", "plz",
        "er du snill", "vær så snill", "vær snill", "ver så snill", "ver snill",
        "🙂", "😊", "☺", "😀", "😃", "😄", "😁", "😉", "😅", "🙏", "🤗", "👋",
        "❤", "🧡", "💛", "💚", "💙", "💜",
    ],
    _Meaning(companions=frozenset({_CONFIRM, _CANCEL, _CALL, _STOP, _TEAM})),
)
_add(
    [
        "dessverre", "beklager", "jeg beklager", "eg beklagar", "beklagar", "unnskyld", "orsak",
        "sorry", "im sorry", "unfortunately",
        "😢", "😞", "😔", "🙁", "☹", "😕", "😓", "😥",
    ],
    _Meaning(companions=frozenset({_CANCEL, _CALL})),
)
_add(["gjerne"], _Meaning(companions=frozenset({_CONFIRM, _CALL})))  # "ja gjerne", "ring meg gjerne"
_add(
    ["på timen", "til timen", "på timen min", "til timen min", "to the appointment"],
    _Meaning(companions=frozenset({_CONFIRM, _CANCEL})),  # "kommer på timen", "kan ikke komme til timen"
)
_add(
    [
        "gleder meg", "jeg gleder meg", "gler meg", "eg gler meg", "som avtalt",
        "looking forward",
    ],
    _Meaning(companions=frozenset({_CONFIRM})),
)

# fmt: on

_LONGEST = max(len(key) for key in _PHRASES)


# --- parsing -------------------------------------------------------------------------------------------


def parse_reply(text: str) -> ReplyIntent:
    """Return what the SMS reply ``text`` asks for, or :attr:`ReplyIntent.UNKNOWN`.

    See the module docstring for the exact rule. Never raises; ``None`` or an
    empty, whitespace-only, too long or unclear reply is UNKNOWN.
    """
    if not text or len(text) > MAX_CHARS:
        return ReplyIntent.UNKNOWN
    sentences = _sentences(text)
    if not 0 < sum(len(sentence) for sentence in sentences) <= MAX_TOKENS:
        return ReplyIntent.UNKNOWN

    intents: set[ReplyIntent] = set()
    politeness: list[frozenset[ReplyIntent]] = []
    for sentence in sentences:
        if any(len(token) > MAX_WORD or _OVERSTRETCHED.search(token) for token in sentence):
            return ReplyIntent.UNKNOWN  # mashed keys, not a stretched word
        keys = [_key(token) for token in sentence]
        start = 0
        while start < len(keys):
            for length in range(min(_LONGEST, len(keys) - start), 0, -1):
                meaning = _PHRASES.get(tuple(keys[start : start + length]))
                if meaning is not None:
                    break
            else:
                return ReplyIntent.UNKNOWN  # a word we do not understand
            if meaning.intent is not None:
                intents.add(meaning.intent)
            else:
                politeness.append(meaning.companions)
            start += length

    if len(intents) != 1:
        return ReplyIntent.UNKNOWN  # nothing clear, or more than one wish
    (intent,) = intents
    if any(intent not in companions for companions in politeness):
        return ReplyIntent.UNKNOWN  # e.g. "ja dessverre"
    return intent
