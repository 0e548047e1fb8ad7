"""The exercises of the Sinch Pizza workshop: what to build, the solution cells, and each check.

Checks use only what an attendee uses (``sn.dial``, ``sn.text``, ``sn.callbacks``,
``sn.replay``, ``sn.export``), so passing one means a caller would hear the right thing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EXERCISES", "Exercise", "Verdict"]

SHOP_NUMBER = "+15559876543"
KITCHEN_NUMBER = "+15550001111"
#: What the opening-hours answer says (lower case): the prompt's "opening hours" does not count.
OPEN = "we are open"


class Verdict:
    """What one check saw: a line per expectation, each met or not, with a hint for the misses."""

    def __init__(self) -> None:
        self.lines: list[tuple[bool, str]] = []

    def expect(self, met: bool, what: str, hint: str = "") -> bool:
        self.lines.append((bool(met), what if met or not hint else f"{what}: {hint}"))
        return bool(met)

    @property
    def passed(self) -> bool:
        return bool(self.lines) and all(met for met, _ in self.lines)


def _caller() -> str:
    """A number no earlier check used, so caches from other exercises do not leak in."""
    return f"+1555{random.randrange(10**6, 10**7)}"


def _heard(transcript: Any) -> str:
    """Everything the app said or prompted in a simulated call, as one text."""
    rows = transcript[transcript["party"] == "app"]
    return " ".join(str(text) for text in rows["text"])


def _final(transcript: Any) -> str:
    return str(transcript.attrs.get("final_action"))


def _exchange(sn: Any, transcript: Any) -> str:
    """What the app received and answered on this call, callback by callback: the evidence in every ✗."""
    rows = sn.callbacks(call_id=transcript.attrs["call_id"])
    said = []
    for _, row in rows.iterrows():
        kind = str(row["kind"])
        if kind == "dice":
            continue
        received = kind.upper()
        if kind == "pie":
            received += f" ({row['menu_result_type']}: {row['menu_result_value'] or 'nothing'!r})"
        if str(row["outcome"]) == "fallback":
            answered = f"the fallback, because {row['error']}"
        else:
            answered = str(row["svaml_action"] or "nothing")
        said.append(f"{received} → {answered}")
    return "the app received " + "; ".join(said) if said else "no callback reached the app"


def check_greeting(sn: Any, verdict: Verdict) -> None:
    call = sn.dial(_caller(), SHOP_NUMBER)
    heard, story = _heard(call), _exchange(sn, call)
    verdict.expect(
        "pizza" in heard.lower(), "the caller hears a greeting that mentions Sinch Pizza", f"heard {heard!r}; {story}"
    )
    verdict.expect(_final(call) == "hangup", "then the call hangs up", f"the final action was {_final(call)}; {story}")


def check_menu(sn: Any, verdict: Verdict) -> None:
    hours = sn.dial(_caller(), SHOP_NUMBER, press=["1"])
    story = _exchange(sn, hours)
    verdict.expect(
        OPEN in _heard(hours).lower(),
        f"pressing 1 tells the opening hours ({OPEN!r})",
        f"heard {_heard(hours)!r}; {story}",
    )
    verdict.expect(_final(hours) == "hangup", "and hangs up", f"the final action was {_final(hours)}; {story}")
    order = sn.dial(_caller(), SHOP_NUMBER, press=["2"])
    connected = order[order["action"] == "connectPstn"]
    verdict.expect(
        KITCHEN_NUMBER in " ".join(map(str, connected["text"])),
        f"pressing 2 connects the caller to the kitchen, {KITCHEN_NUMBER}",
        f"no connectPstn to it; {_exchange(sn, order)}. The PIE's value is the option's return(...) value, "
        "not the key pressed",
    )


def check_silence(sn: Any, verdict: Verdict) -> None:
    silent = sn.dial(_caller(), SHOP_NUMBER, press=[])
    said, story = _heard(silent).lower(), _exchange(sn, silent)
    verdict.expect("sorry" in said, "a caller who presses nothing hears 'sorry'", f"heard {_heard(silent)!r}; {story}")
    verdict.expect(
        _final(silent) == "hangup", "and the call hangs up", f"the final action was {_final(silent)}; {story}"
    )
    wrong = sn.dial(_caller(), SHOP_NUMBER, press=["9", "9", "9"])
    verdict.expect(
        "sorry" in _heard(wrong).lower(),
        "so does one who presses a key the menu has not got",
        f"heard {_heard(wrong)!r}; {_exchange(sn, wrong)}",
    )
    hours = sn.dial(_caller(), SHOP_NUMBER, press=["1"])
    verdict.expect(
        OPEN in _heard(hours).lower(),
        "pressing 1 still tells the opening hours",
        f"heard {_heard(hours)!r}; {_exchange(sn, hours)}",
    )


def check_memory(sn: Any, verdict: Verdict) -> None:
    caller = _caller()
    first, second = sn.dial(caller, SHOP_NUMBER, press=["1"]), sn.dial(caller, SHOP_NUMBER, press=["1"])
    verdict.expect(
        "back" not in _heard(first).lower(),
        "a first-time caller is not welcomed back",
        f"heard {_heard(first)!r}; {_exchange(sn, first)}",
    )
    verdict.expect(
        "welcome back" in _heard(second).lower(),
        "the same number calling again hears 'welcome back'",
        f"heard {_heard(second)!r}; {_exchange(sn, second)}; keep a count per event.cli in context.cache",
    )
    verdict.expect(
        OPEN in _heard(second).lower(),
        "and still gets the menu (1 → opening hours)",
        f"heard {_heard(second)!r}; {_exchange(sn, second)}",
    )


def check_text(sn: Any, verdict: Verdict) -> None:
    asked = sn.text("What are your opening hours?", from_=_caller())
    failed = [str(n) for n in asked["note"] if str(n).startswith("the app failed")]
    verdict.expect(not failed, "the webhook handler runs without an error", "; ".join(failed))
    replies = asked[asked["who"] == "app"]
    said = " | ".join(str(t) for t in replies["text"])
    verdict.expect(
        OPEN in said.lower(),
        f"a message asking for the hours gets a reply with them ({OPEN!r}) through context.conversation",
        f"the app received 'What are your opening hours?' and sent {said or 'nothing'!r}",
    )
    statuses = [str(s) for s in asked[asked["who"] == "sinch"]["status"]]
    verdict.expect(
        "DELIVERED" in statuses,
        "and Sinch reports it delivered",
        f"delivery events: {', '.join(statuses) or 'none'}; {' '.join(str(n) for n in asked['note'] if n)}",
    )
    other = sn.text("Do you deliver?", from_=_caller())
    other_said = " | ".join(str(t) for t in other[other["who"] == "app"]["text"])
    verdict.expect(
        OPEN not in other_said.lower(),
        "other messages do not get the hours",
        f"the app received 'Do you deliver?' and sent {other_said!r}",
    )


def check_fixed(sn: Any, verdict: Verdict) -> None:
    frame = sn.callbacks(kind="ice")
    failed = frame[(frame["outcome"] == "fallback") & frame["replay_of"].isna()]
    if not verdict.expect(len(failed) > 0, "a captured ICE the broken handler failed on", "call the shop first"):
        return
    again = sn.replay(int(failed.index[-1]))
    replayed = sn.callback(again.record_id)
    verdict.expect(
        replayed["outcome"] == "ok",
        f"replaying that callback (#{int(failed.index[-1])}) against the fixed handler answers without an error",
        f"it still fails: {replayed['error']}",
    )
    stranger = sn.dial(_caller(), SHOP_NUMBER, press=["1"])
    verdict.expect(
        "friend" in _heard(stranger).lower(),
        "a number not in the phone book is greeted as 'friend'",
        f"heard {_heard(stranger)!r}; {_exchange(sn, stranger)}",
    )


def check_shipped(sn: Any, verdict: Verdict) -> None:
    project = Path("build") / "sinch-pizza"
    verdict.expect((project / "function.js").is_file(), f"{project} holds an exported Function", "run %sinch export")
    handlers = (project / "assets" / "handlers.json").read_text() if project.is_dir() else ""
    for kind in ("ice", "pie", "conversation"):
        verdict.expect(f'"kind": "{kind}"' in handlers, f"it carries the {kind.upper()} handler")


@dataclass(frozen=True)
class Exercise:
    """One exercise: its number, title, minutes, the solution cells and the check."""

    number: int
    title: str
    minutes: int
    solution: list[str]  # whole cells, as an attendee would type them
    run: Callable[[Any, Verdict], None]


_MENU = """main = (svaml.menu("main")
        .prompt("#tts[Press 1 for our opening hours, 2 to order]")
        .option("1", "return(hours)")
        .option("2", "return(order)"))"""

_CHOICES = """choice = event.menu_result.value
if choice == "hours":
    return svaml.pie().say("We are open every day from 11 to 23").hangup()
if choice == "order":
    return svaml.pie().say("Connecting you to the kitchen").connect_pstn("+15550001111")"""

EXERCISES: list[Exercise] = [
    Exercise(
        1,
        "Answer the phone",
        5,
        ['%%sinch ice\nreturn svaml.ice().say("Welcome to Sinch Pizza!").hangup()'],
        check_greeting,
    ),
    Exercise(
        2,
        "A menu",
        10,
        [
            f'%%sinch ice\n{_MENU}\nreturn svaml.ice().say("Welcome to Sinch Pizza!").run_menu(main)',
            f"%%sinch pie\n{_CHOICES}\nreturn svaml.pie().hangup()",
        ],
        check_menu,
    ),
    Exercise(
        3,
        "Nobody pressed anything",
        10,
        [f'%%sinch pie\n{_CHOICES}\nreturn svaml.pie().say("Sorry, we did not get that. Goodbye").hangup()'],
        check_silence,
    ),
    Exercise(
        4,
        "Remember the caller",
        10,
        [
            f"""%%sinch ice
calls = context.cache.get(event.cli, 0) + 1
context.cache.set(event.cli, calls)
greeting = "Welcome back to Sinch Pizza!" if calls > 1 else "Welcome to Sinch Pizza!"
{_MENU}
return svaml.ice().say(greeting).run_menu(main)"""
        ],
        check_memory,
    ),
    Exercise(
        5,
        "Text us",
        10,
        [
            """%%sinch conversation
if event.trigger == "MESSAGE_INBOUND" and "hour" in (event.text or "").lower():
    context.conversation.messages.send_text_message(
        app_id=context.env.get("CONVERSATION_APP_ID", "sinch-pizza"),
        text="We are open every day from 11 to 23",
        recipient_identities=[{"channel": event.channel, "identity": event.identity}],
    )"""
        ],
        check_text,
    ),
    Exercise(
        6,
        "Fix a broken handler",
        10,
        [
            f"""%%sinch ice
name = PHONE_BOOK.get(event.cli, "friend")
{_MENU}
return svaml.ice().say(f"Hello {{name}}, welcome to Sinch Pizza!").run_menu(main)"""
        ],
        check_fixed,
    ),
    Exercise(7, "Ship it", 5, ["%sinch export build/sinch-pizza --name sinch-pizza"], check_shipped),
]
