"""What patients answer by SMS to an appointment reminder, and what Følge makes of it.

Pure function: no app, no database.
"""

import time

import pytest

from server.services import sms_replies
from server.services.sms_replies import MAX_CHARS, MAX_TOKENS, ReplyIntent, parse_reply

CONFIRM = ReplyIntent.CONFIRM
CANCEL = ReplyIntent.CANCEL
CALL = ReplyIntent.CALL_ME
STOP = ReplyIntent.STOP
TEAM = ReplyIntent.TEAM
UNKNOWN = ReplyIntent.UNKNOWN

SKIN_TONES = ["\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff"]

REAL_WORLD = [
    # --- confirm: the keywords from the reminder, in every case, spacing and punctuation
    ("JA", CONFIRM),
    ("ja", CONFIRM),
    ("Ja", CONFIRM),
    ("jA", CONFIRM),
    ("  ja  ", CONFIRM),
    ("Ja.", CONFIRM),
    ("Ja!!!", CONFIRM),
    ("ja?", CONFIRM),
    ("«Ja»", CONFIRM),
    ("(ja)", CONFIRM),
    ("KOMMER", CONFIRM),
    ("Kommer!", CONFIRM),
    ("1", CONFIRM),
    (" 1 ", CONFIRM),
    ("1.", CONFIRM),
    ("1️⃣", CONFIRM),
    ("１", CONFIRM),
    # stretched letters
    ("Jaa", CONFIRM),
    ("jaaaa!", CONFIRM),
    ("kommmer", CONFIRM),
    # bokmål / nynorsk / dialect phrases
    ("Ja takk", CONFIRM),
    ("ja, takk!", CONFIRM),
    ("Ja tusen takk", CONFIRM),
    ("Jeg kommer", CONFIRM),
    ("jeg kommer.", CONFIRM),
    ("Hei! Ja, jeg kommer. Tusen takk 🙂", CONFIRM),
    ("Eg kjem", CONFIRM),
    ("eg kjem, takk", CONFIRM),
    ("Æ kommer", CONFIRM),
    ("jo", CONFIRM),
    ("Jepp", CONFIRM),
    ("Jau", CONFIRM),
    ("ja ja", CONFIRM),
    ("OK", CONFIRM),
    ("Ok takk", CONFIRM),
    ("okei", CONFIRM),
    ("Greit", CONFIRM),
    ("Sees!", CONFIRM),
    ("Ja, det passer bra", CONFIRM),
    ("Kommer som avtalt", CONFIRM),
    ("ja gleder meg", CONFIRM),
    ("Jeg kommer på timen", CONFIRM),
    # English
    ("yes", CONFIRM),
    ("YES", CONFIRM),
    ("Y", CONFIRM),
    ("Yes please", CONFIRM),
    ("yes, thanks", CONFIRM),
    ("I'm coming", CONFIRM),
    ("I’m coming", CONFIRM),
    ("im coming", CONFIRM),
    ("Coming", CONFIRM),
    ("I'll be there", CONFIRM),
    ("yep", CONFIRM),
    ("See you soon!", CONFIRM),
    # emoji, with skin tones and variation selectors
    ("👍", CONFIRM),
    ("👍🏻", CONFIRM),
    ("👍🏿", CONFIRM),
    ("👍👍", CONFIRM),
    ("ja👍", CONFIRM),
    ("Ja 👍🏽", CONFIRM),
    ("✅", CONFIRM),
    ("✔️", CONFIRM),
    ("✔", CONFIRM),
    ("👌🏼", CONFIRM),
    # --- cancel
    ("NEI", CANCEL),
    ("nei", CANCEL),
    ("Nei.", CANCEL),
    ("neei", CANCEL),
    ("Neiii", CANCEL),
    ("AVLYS", CANCEL),
    ("avlys!", CANCEL),
    ("Avlys timen", CANCEL),
    ("2", CANCEL),
    ("2.", CANCEL),
    ("2️⃣", CANCEL),
    ("Nei takk", CANCEL),
    ("Nei dessverre", CANCEL),
    ("nei, beklager", CANCEL),
    ("Kan ikke", CANCEL),
    ("kan ikke komme", CANCEL),
    ("Jeg kan ikke komme til timen, beklager", CANCEL),
    ("Kommer ikke", CANCEL),
    ("jeg kommer ikke", CANCEL),
    ("Kan ikkje", CANCEL),
    ("Eg kjem ikkje", CANCEL),
    ("kjem ikkje, orsak", CANCEL),
    ("Må avlyse", CANCEL),
    ("no", CANCEL),
    ("No.", CANCEL),
    ("N", CANCEL),
    ("Cancel", CANCEL),
    ("cancel please", CANCEL),
    ("Can't come", CANCEL),
    ("cant come", CANCEL),
    ("I cannot come", CANCEL),
    ("Sorry, I can’t make it", CANCEL),
    ("not coming", CANCEL),
    ("👎", CANCEL),
    ("👎🏾", CANCEL),
    ("❌", CANCEL),
    ("✖️", CANCEL),
    ("🚫", CANCEL),
    ("nei 😢", CANCEL),
    # --- call me
    ("RING", CALL),
    ("ring", CALL),
    ("Ring meg", CALL),
    ("ring meg!", CALL),
    ("Ring meg opp", CALL),
    ("ring meg er du snill", CALL),
    ("Kan du ringe meg?", CALL),
    ("Ringje meg", CALL),
    ("Call me", CALL),
    ("call", CALL),
    ("Please call me", CALL),
    ("📞", CALL),
    ("☎️", CALL),
    ("☎", CALL),
    ("📱", CALL),
    # --- team (who is my coordinator?)
    ("TEAM", TEAM),
    ("teamet", TEAM),
    ("Mitt team", TEAM),
    ("teamet mitt takk", TEAM),
    ("my team", TEAM),
    ("Koordinator?", TEAM),
    ("hei, team", TEAM),
    # --- stop
    ("STOPP", STOP),
    ("stopp", STOP),
    ("Stopp.", STOP),
    ("Stoppp", STOP),
    ("stop", STOP),
    ("STOP!", STOP),
    ("STOPP SMS", STOP),
    ("stopp sms takk", STOP),
    ("Stopp påminnelser", STOP),
    ("stopp varsler", STOP),
    ("Stopp alle meldinger", STOP),
    ("Stop reminders", STOP),
    ("avslutt sms", STOP),
    ("Unsubscribe", STOP),
    ("Ikke send meg flere SMS", STOP),
    # --- deliberately unknown
    ("avslutt", UNKNOWN),  # could mean "cancel" or "end treatment"
    ("stopper", UNKNOWN),
    ("stoppe", UNKNOWN),
    ("🛑", UNKNOWN),
    ("⛔", UNKNOWN),
    ("takk", UNKNOWN),
    ("Takk for påminnelsen", UNKNOWN),
    ("hei", UNKNOWN),
    ("🙂", UNKNOWN),
    ("Kommer i morgen", UNKNOWN),  # may mean "tomorrow instead"
    ("ikke ring meg", UNKNOWN),
    ("ja dessverre", UNKNOWN),  # an apology does not go with yes
    ("Desverre ikke", UNKNOWN),  # "ikke" alone does not say what
    ("Ja. Mvh Kari", UNKNOWN),
    ("Jeg kommer nok litt sent, er det greit?", UNKNOWN),
    ("hva gjelder dette?", UNKNOWN),
]


@pytest.mark.parametrize(("reply", "expected"), REAL_WORLD)
def test_real_world_replies(reply: str, expected: ReplyIntent) -> None:
    assert parse_reply(reply) is expected


def test_the_table_is_large_and_covers_every_intent() -> None:
    assert len(REAL_WORLD) >= 60
    assert {expected for _, expected in REAL_WORLD} == set(ReplyIntent)
    assert len({reply for reply, _ in REAL_WORLD}) == len(REAL_WORLD), "duplicate variant"


@pytest.mark.parametrize(
    "reply",
    [
        "ja nei",
        "Ja, nei",
        "ja men kan ikke",
        "JA NEI",
        "yes no",
        "👍👎",
        "✅ ❌",
        "1 2",
        "1, 2",
        "ja 2",
        "nei 1",
        "nei, ring meg",
        "kan ikke, ring meg",
        "ja, ring meg",
        "ok nei",
        "nei stopp",
        "ja stopp",
        "ring meg, stopp sms",
        "nei, jeg kommer",
        "jeg kommer. ikke ring meg",
    ],
)
def test_ambiguous_replies_are_unknown(reply: str) -> None:
    assert parse_reply(reply) is UNKNOWN


@pytest.mark.parametrize(
    "reply",
    ["0", "3", "9", "11", "12", "21", "22", "01", "1.5", "10:00", "1 time", "91234567", "½", "3️⃣", "-3"],
)
def test_numbers_other_than_one_or_two_are_unknown(reply: str) -> None:
    assert parse_reply(reply) is UNKNOWN


@pytest.mark.parametrize(
    "reply", ["", " ", "   ", "\n", "\t \n ", "...", "?!", "\ufe0f", "\u200b", "🏽", None]
)
def test_empty_or_blank_replies_are_unknown(reply: str | None) -> None:
    assert parse_reply(reply) is UNKNOWN  # type: ignore[arg-type]


@pytest.mark.parametrize(("emoji", "expected"), [("👍", CONFIRM), ("👎", CANCEL), ("👌", CONFIRM)])
@pytest.mark.parametrize("tone", SKIN_TONES)
def test_every_skin_tone_with_and_without_variation_selector(
    emoji: str, expected: ReplyIntent, tone: str
) -> None:
    assert parse_reply(emoji + tone) is expected
    assert parse_reply(emoji + tone + "\ufe0f") is expected
    assert parse_reply(emoji + "\ufe0f") is expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("stopp", STOP), ("STOPP", STOP), ("Stopp sms", STOP), ("stop reminders", STOP)],
)
def test_stop_is_only_the_precise_words(reply: str, expected: ReplyIntent) -> None:
    assert parse_reply(reply) is expected
    # Anything else wrapped around it, or a different form of the verb, is not a stop.
    assert parse_reply(f"ikke {reply}") is UNKNOWN
    assert parse_reply(f"{reply} å ringe meg") is UNKNOWN
    assert parse_reply(f"kan dere {reply}") is UNKNOWN


def test_stop_inside_a_sentence_is_not_a_stop() -> None:
    for reply in ["Du må ikke stoppe medisinen", "stopp, jeg kommer", "kan jeg stoppe?", "stopp opp"]:
        assert parse_reply(reply) is UNKNOWN, reply


def test_long_messages_are_left_to_people() -> None:
    assert parse_reply(" ".join(["ja"] * MAX_TOKENS)) is CONFIRM
    assert parse_reply(" ".join(["ja"] * (MAX_TOKENS + 1))) is UNKNOWN
    assert parse_reply("ja" + " " * MAX_CHARS) is UNKNOWN


def test_fast_on_large_or_hostile_input() -> None:
    started = time.perf_counter()
    for _ in range(2000):
        parse_reply("Hei! Ja, jeg kommer. Tusen takk 🙂")
        parse_reply("x" * 100_000)
        parse_reply("👍🏽" * 100)
    assert time.perf_counter() - started < 2.0


def test_values_are_stable_strings() -> None:
    assert [intent.value for intent in ReplyIntent] == ["confirm", "cancel", "call_me", "stop", "team",
                                                        "unknown"]


def test_any_two_phrases_that_fit_together_are_understood_together() -> None:
    """Guards the vocabulary against greedy-matching traps such as "please call" + "me"."""
    phrases = sms_replies._PHRASES
    failures = []
    for first, a in phrases.items():
        for second, b in phrases.items():
            intents = {m.intent for m in (a, b) if m.intent is not None}
            fits = len(intents) == 1 and all(m.intent is not None or intents <= m.companions for m in (a, b))
            if fits and parse_reply(" ".join(first + second)) is not intents.pop():
                failures.append(" ".join(first + second))
    assert not failures


@pytest.mark.parametrize("reply, expected", [
    ("jaaaaa", CONFIRM),  # five of the same letter: still a stretched "ja"
    ("neeeeei", ReplyIntent.CANCEL),
    ("jaaaaaa", UNKNOWN),  # six: mashed keys as likely as a yes, so a person reads it
    ("Jaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", UNKNOWN),
    ("nnnnnnnnei", UNKNOWN),
    ("ja " + "x" * 30, UNKNOWN),
])
def test_a_stretched_word_is_forgiven_only_up_to_five_letters(reply: str,
                                                              expected: ReplyIntent) -> None:
    assert parse_reply(reply) is expected
