"""``sn.chatpad()``: a phone-like chat with the app. Write as a contact, read the replies and their ticks.

The threads (one per contact and channel of this kernel session), the selected thread's
messages as bubbles (the contact's on the right, the app's on the left) and the delivery
status Sinch reported for each app message as ticks on it: ✓ queued on the channel, ✓✓
delivered, blue ✓✓ read, ✗ failed (the reason under the bubble and on hover). Send posts the
contact's message the way ``sn.text`` does (it *is* ``sn.text``: inbound, then everything it
set off); the app's choice messages are buttons where the channel shows them as buttons
(WhatsApp, RCS, Messenger; SMS gets them as plain text, as its contacts do), and a click sends
the choice's postback back.

Like the monitor it reads the journal, never the server thread: a poller notices new commits
and redraws, so messages sent from other cells (``sn.text``) show up too.

ipywidgets rather than anywidget (which the monitor's table uses): the chat pad is mostly
controls ipywidgets already has (a list to pick a thread from, a text field, a dropdown,
buttons, including one per offered choice), so clicks are real ``Button`` clicks a test can
make with ``.click()`` and no ES module has to be kept. The bubbles are static HTML (each one a
``widgets.HTML`` kept by its journal id, so a redraw only rewrites the ticks that changed), and
the thread scrolls with plain CSS (``column-reverse``: it opens on the newest message). What
anywidget gave the monitor, a DOM that reports row clicks and header clicks back over a large
table, a chat of a few dozen bubbles does not need.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets

from ..journal import readable
from ..runtime.session import Session
from ..simulate.channels import CHANNELS
from ..simulate.conversation import message_line
from .following import follow_journal

__all__ = ["Bubble", "Chatpad", "Thread", "fold"]

#: Delivery statuses in the order they overtake one another (FAILED overtakes all).
RANK = {"": 0, "QUEUED_ON_CHANNEL": 1, "DELIVERED": 2, "READ": 3, "FAILED": 4}
#: The glyph, its colour and words for each status of an app message (glyphs every default font has).
TICKS = {
    "accepted": ("◷", "#8696a0", "accepted by Sinch, not yet on the channel"),
    "QUEUED_ON_CHANNEL": ("✓", "#8696a0", "queued on the channel"),
    "DELIVERED": ("✓✓", "#8696a0", "delivered"),
    "READ": ("✓✓", "#1d9bf0", "read"),
    "FAILED": ("✗", "#d1242f", "failed"),
    "refused": ("✗", "#d1242f", "refused by the API"),
}
#: Messages a thread shows (the newest); the rest are in ``sn.conversations()`` and the journal.
SHOWN = 100
#: Characters of a thread's name in the list (contact, channel, the last words).
LABEL = 36
#: Where choice messages carry their choices.
CHOICE_KINDS = ("choice_message", "card_message")


@dataclass
class Bubble:
    """One message of a thread: who sent it, its words, and for an app message what Sinch reported."""

    id: int
    who: str
    kind: str
    text: str
    time: float
    note: str = ""
    #: An app message's state: ``accepted``, ``refused``, or its latest delivery status (``RANK``).
    status: str = ""
    #: Why it failed or was refused.
    reason: str = ""
    #: The Conversation API message id (what delivery reports name).
    message_id: str | None = None
    #: (label, postback data) of a choice message's choices.
    choices: list[tuple[str, str]] = field(default_factory=list)
    #: A choice message's words without its choices (what shows above the buttons).
    question: str = ""
    #: Each delivery status and when it came, for the hover title.
    history: list[tuple[str, float]] = field(default_factory=list)

    def ticks(self) -> tuple[str, str, str]:
        """The glyph, colour and hover words of this app message's status (empty for others)."""
        if self.who != "app" or self.status not in TICKS:
            return "", "", ""
        glyph, colour, words = TICKS[self.status]
        steps = ", ".join(f"{TICKS[s][2]} {readable.local_time(t)}" for s, t in self.history if s in TICKS)
        title = "; ".join(part for part in (steps or words, self.reason) if part)
        return glyph, colour, title

    def tick_text(self) -> str:
        """The status as plain text: ``✓``, ``✓✓``, ``✓✓ read``, ``✗ failed: reason``."""
        glyph, _, _ = self.ticks()
        if self.status == "READ":
            return f"{glyph} read"
        if self.status in ("FAILED", "refused"):
            return f"{glyph} {TICKS[self.status][2]}: {self.reason}" if self.reason else f"{glyph} {self.status}"
        return glyph


@dataclass
class Thread:
    """One contact on one channel: its messages, oldest first."""

    contact: str
    channel: str
    bubbles: list[Bubble] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        """(contact, channel)."""
        return self.contact, self.channel

    def label(self) -> str:
        """How the thread list names it: contact, channel and the last words."""
        last = next((b for b in reversed(self.bubbles) if b.text), None)
        label = f"{self.contact} · {self.channel}" + (f" — {last.text}" if last else "")
        return label if len(label) <= LABEL else label[: LABEL - 1] + "…"

    def buttons(self, bubble: Bubble) -> list[tuple[str, str]]:
        """The choices of ``bubble`` the contact can tap: the channel shows them as buttons and it got there."""
        native = CHANNELS[self.channel].native if self.channel in CHANNELS else frozenset()
        if bubble.who != "app" or f"{bubble.kind}_message" not in native or bubble.status in ("FAILED", "refused"):
            return []
        return bubble.choices

    def words(self, bubble: Bubble) -> str:
        """What the bubble says: a choice message's question when its choices are buttons, else its text."""
        return bubble.question if bubble.question and self.buttons(bubble) else bubble.text


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _choices(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, postback data) of each choice of an app message (choice or card message)."""
    found = []
    for kind in CHOICE_KINDS:
        for choice in (message.get(kind) or {}).get("choices", []):
            item: dict[str, Any] = next(
                (choice[k] for k in choice if k.endswith("_message") and isinstance(choice[k], dict)), {}
            )
            label = str(item.get("text") or item.get("title") or item.get("url") or choice.get("postback_data") or "?")
            found.append((label, str(choice.get("postback_data") or label)))
    return found


def _question(message: dict[str, Any]) -> str:
    """A choice or card message's words, its choices left out."""
    if "choice_message" in message:
        return str(((message["choice_message"] or {}).get("text_message") or {}).get("text") or "")
    card = message.get("card_message") or {}
    return " — ".join(str(card[k]) for k in ("title", "description") if card.get(k))


def fold(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], Thread]:
    """Journal rows (``conversation`` and ``outbound``, oldest first) as threads, deliveries folded into ticks."""
    threads: dict[tuple[str, str], Thread] = {}
    sent: dict[str, Bubble] = {}
    for row in rows:
        line = message_line(row)
        if line is None or not row.get("cli"):
            continue
        key = (str(row["cli"]), str(row.get("destination") or ""))
        thread = threads.setdefault(key, Thread(*key))
        when = float(row.get("time") or 0)
        if line["who"] == "sinch":
            report = _json(row.get("request_body")).get("message_delivery_report") or {}
            status = str(report.get("status") or "")
            target = sent.get(str(report.get("message_id")))
            if target is None:  # a report on a message this journal did not see go out
                thread.bubbles.append(Bubble(int(row["id"]), "sinch", "delivery", f"delivery {status}", when))
                continue
            target.history.append((status, when))
            if RANK.get(status, 0) > RANK.get(target.status, 0) or target.status in ("accepted", ""):
                target.status = status
            if status == "FAILED":
                target.reason = line["note"]
            continue
        bubble = Bubble(int(row["id"]), line["who"], line["kind"], line["text"], when, note=line["note"])
        if line["who"] == "app":
            refused = str(line["status"]).startswith("refused")
            bubble.status = "refused" if refused else "accepted"
            bubble.reason = str(row.get("error") or "") if refused else ""
            bubble.note = "" if refused else line["note"]
            bubble.message_id = _json(row.get("response_body")).get("message_id")
            message = _json(row.get("request_body")).get("message") or {}
            bubble.choices = _choices(message)
            bubble.question = _question(message)
            if bubble.message_id:
                sent[str(bubble.message_id)] = bubble
        thread.bubbles.append(bubble)
    return threads


# Drawing ------------------------------------------------------------------

_ROW = "display:flex;margin:2px 0;justify-content:{side}"
_BUBBLE = (
    "max-width:78%;padding:4px 8px 3px;border-radius:10px;color:#111b21;background:{background};"
    "white-space:pre-wrap;overflow-wrap:anywhere;font-size:13px;line-height:1.35;box-shadow:0 1px 0.5px #0002"
)
_SMALL = "font-size:11px;color:{colour};margin-top:1px"
_STYLE = {"contact": ("flex-end", "#d9fdd3"), "app": ("flex-start", "#f0f2f5"), "sinch": ("center", "#fff8c5")}


def bubble_html(bubble: Bubble, words: str, buttons: Iterable[tuple[str, str]] = ()) -> str:
    """One message (saying ``words``) as a row of HTML with inline styles: it also serves where widgets do not render.

    ``buttons``: choices drawn as labels inside the bubble (the static fallback; the widget has real buttons).
    """
    side, background = _STYLE.get(bubble.who, _STYLE["sinch"])
    glyph, colour, title = bubble.ticks()
    ticks = (
        f' <span class="sinch-nb-ticks" data-status="{html.escape(bubble.status)}" title="{html.escape(title)}"'
        f' style="color:{colour};font-weight:600">{html.escape(glyph)}</span>'
        if glyph
        else ""
    )
    when = html.escape(readable.local_timestamp(bubble.time))
    stamp = f'<span title="{when}">{readable.local_time(bubble.time)[:8]}</span>'
    footer = f'<div style="{_SMALL.format(colour="#667781")};text-align:right">{stamp}{ticks}</div>'
    failed = ""
    if bubble.status in ("FAILED", "refused") and bubble.reason:
        why = html.escape(bubble.tick_text())
        failed = f'<div class="sinch-nb-failed" style="{_SMALL.format(colour="#d1242f")}">{why}</div>'
    note = ""
    if bubble.note:
        colour = "#d1242f" if bubble.who == "contact" else "#667781"  # a contact's note says the app failed
        note = f'<div class="sinch-nb-note" style="{_SMALL.format(colour=colour)}">{html.escape(bubble.note)}</div>'
    choices = "".join(
        f'<span class="sinch-nb-choice-label" style="display:inline-block;margin:2px 4px 0 0;padding:1px 8px;'
        f'border:1px solid #1d9bf0;border-radius:10px;color:#1d9bf0">{html.escape(label)}</span>'
        for label, _ in buttons
    )
    return (
        f'<div class="sinch-nb-message" style="{_ROW.format(side=side)}">'
        f'<div class="sinch-nb-bubble sinch-nb-{html.escape(bubble.who)}" data-id="{bubble.id}"'
        f' style="{_BUBBLE.format(background=background)}">{html.escape(words)}{footer}{note}{failed}'
        f"{'<div>' + choices + '</div>' if choices else ''}</div></div>"
    )


def _close(view: widgets.Widget) -> None:
    """Close a widget and the ones inside it (a bubble's buttons)."""
    for child in getattr(view, "children", ()):
        _close(child)
    view.close()


class Chatpad:
    """The widget, its poller and the contact's send path; ``widget`` is what the notebook shows."""

    def __init__(
        self,
        session: Session,
        send: Callable[..., Any],
        *,
        contact: str | None = None,
        channel: str | None = None,
        poll: float = 0.25,
        live: bool = True,
    ) -> None:
        self.session = session
        self._send = send
        self._lock = threading.RLock()
        self._quiet = False
        #: The threads as last read from the journal, by (contact, channel).
        self.threads: dict[tuple[str, str], Thread] = {}
        #: The drawn messages of the selected thread, by journal id: (its HTML, its widget, its buttons).
        self._drawn: dict[int, tuple[str, widgets.Widget, list[widgets.Button]]] = {}
        self.read()
        latest = max(self.threads.values(), key=lambda t: t.bubbles[-1].time, default=None)
        if contact is None and channel is None and latest is not None:
            contact, channel = latest.key
        channel = (channel or "SMS").upper()
        if channel not in CHANNELS:
            raise ValueError(f"channel={channel!r}: the simulated platform knows {', '.join(CHANNELS)}")
        narrow = widgets.Layout(width="250px")
        self.thread_list = widgets.Select(options=[], rows=14, layout=widgets.Layout(width="250px", height="auto"))
        self.contact = widgets.Text(contact or "+15551234567", description="Contact", layout=narrow)
        self.channel = widgets.Dropdown(options=list(CHANNELS), value=channel, description="Channel", layout=narrow)
        self.chat = widgets.VBox(
            [],
            layout=widgets.Layout(
                flex_flow="column-reverse",  # starts scrolled to the newest message
                height="360px",
                overflow="auto",
                padding="6px",
                border="1px solid #d0d7de",
            ),
        )
        self.chat.add_class("sinch-nb-thread")
        self._empty = widgets.HTML()  # what the thread shows before its first message
        self.media = widgets.Text(placeholder="media URL (optional: sends a picture, video…)")
        self.media.layout.width = "100%"
        self.message = widgets.Text(placeholder="Message")
        self.message.layout.width = "100%"
        self.send_button = widgets.Button(description="Send", button_style="success", icon="paper-plane")
        self.status = widgets.HTML()
        self.thread_list.observe(lambda change: self._picked(change["new"]), names="value")
        self.contact.observe(lambda _: self._moved(), names="value")
        self.channel.observe(lambda _: self._moved(), names="value")
        self.send_button.on_click(lambda _: self.send())
        self.message.on_msg(self._enter)
        talk = widgets.VBox(
            [
                widgets.HBox([self.contact, self.channel]),
                self.chat,
                widgets.HBox([self.media]),
                widgets.HBox([self.message, self.send_button]),
                self.status,
            ],
            layout=widgets.Layout(width="560px"),
        )
        threads = widgets.VBox([widgets.HTML("<b>Threads</b>"), self.thread_list])
        self.widget = widgets.HBox([threads, talk], layout=widgets.Layout(padding="6px", grid_gap="8px"))
        self.widget.add_class("sinch-nb-chatpad")
        self._stop = threading.Event()
        seen = session.journal.committed_count  # what draw() shows: the poller redraws from the next commit
        self.draw()
        if live:
            follow_journal(session, self.refresh, self._stop, interval=poll, name="sinch_nb-chatpad", seen=seen)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # Frontends without widgets (nbconvert, terminal IPython) get the selected thread as text and HTML.
        fallback = {"text/plain": self.text(), "text/html": self.html()}
        return {**(self.widget._repr_mimebundle_(**kwargs) or {}), **fallback}

    def close(self) -> None:
        """Stop following the journal and close the widgets."""
        self._stop.set()
        with self._lock:
            for _, view, _ in self._drawn.values():
                _close(view)
            self._drawn.clear()
            self._empty.close()
        self.widget.close()

    # Data -----------------------------------------------------------------

    @property
    def key(self) -> tuple[str, str]:
        """The selected thread: (contact, channel) as the fields say."""
        return self.contact.value.strip(), self.channel.value

    @property
    def thread(self) -> Thread:
        """The selected thread (empty when the contact has not written on this channel yet)."""
        return self.threads.get(self.key) or Thread(*self.key)

    def read(self) -> None:
        """Read this session's conversation rows from the journal into ``threads``."""
        journal = self.session.journal
        rows = journal.rows("WHERE session = ? AND kind IN ('conversation', 'outbound')", (journal.session,))
        self.threads = fold(rows)

    def refresh(self) -> None:
        """Read the journal and redraw (nothing once closed: the poller may have been waiting on the lock)."""
        with self._lock:
            if self._stop.is_set():
                return
            self.read()
            self.draw()

    # Actions --------------------------------------------------------------

    def send(self, message: str | None = None, *, media: str | None = None, choice: str | None = None) -> None:
        """The contact sends ``message`` (default: what the send box holds; ``media`` a URL; ``choice`` a postback).

        Blocks until the app's replies and their delivery reports are in, as ``sn.text`` does.
        """
        contact, channel = self.key
        words = self.message.value if message is None and choice is None else message
        url = (self.media.value.strip() or None) if message is None and choice is None and media is None else media
        if not contact:
            self.status.value = "<i>type the contact's number (or identity) first</i>"
            return
        if not (words or "").strip() and url is None and choice is None:
            self.status.value = "<i>type a message first</i>"
            return
        self.send_button.disabled = True
        self.status.value = "<i>sending…</i>"
        sends = [{"media": url}] if url is not None else []
        if choice is not None:
            sends.append({"choice": choice})
        elif (words or "").strip():
            sends.append({"message": words})
        replies, said = 0, "sent"
        try:
            for what in sends:
                frame = self._send(what.pop("message", None), from_=contact, channel=channel, **what)
                replies += int((frame["who"] == "app").sum())
                failed = [n for n in frame.loc[frame["who"] == "contact", "note"] if n]
                said = f"✗ {failed[0]}" if failed else said
        except Exception as error:  # shown, not raised: a widget callback's exception would go unseen
            self.status.value = f"<span style='color:#d1242f'>✗ {html.escape(str(error))}</span>"
        else:
            if said == "sent":
                said = f"sent; the app answered with {replies} message{'s' if replies != 1 else ''}"
            self.status.value = html.escape(said)
            if message is None and choice is None:
                self.message.value = ""
                self.media.value = ""
        finally:
            self.send_button.disabled = False
        self.refresh()

    def choose(self, postback: str) -> None:
        """Tap a choice: the contact sends its postback data (``sn.text(choice=...)``)."""
        self.send(choice=postback)

    def _enter(self, _: Any, content: dict[str, Any], buffers: Any) -> None:
        if content.get("event") == "submit":  # Enter in the message box
            self.send()

    def _picked(self, key: tuple[str, str] | None) -> None:
        """A thread was picked in the list: the fields follow."""
        if self._quiet or key is None:
            return
        with self._lock:
            self._quiet = True
            try:
                if key[1] not in self.channel.options:  # a channel the simulator does not know (real traffic)
                    self.channel.options = [*self.channel.options, key[1]]
                self.contact.value, self.channel.value = key
            finally:
                self._quiet = False
            self.draw()

    def _moved(self) -> None:
        """The contact or channel field changed: show that thread."""
        if not self._quiet:
            with self._lock:
                if not self._stop.is_set():
                    self.draw()

    # View -----------------------------------------------------------------

    def draw(self) -> None:
        """Redraw the thread list and the selected thread from ``threads`` (no journal read)."""
        with self._lock:
            self._quiet = True
            try:
                ordered = sorted(self.threads.values(), key=lambda t: -t.bubbles[-1].time if t.bubbles else 0)
                options = [(thread.label(), thread.key) for thread in ordered]
                if tuple(self.thread_list.options) != tuple(options):
                    self.thread_list.options = options
                self.thread_list.value = self.key if self.key in self.threads else None
            finally:
                self._quiet = False
            self._draw_thread()

    def _draw_thread(self) -> None:
        thread = self.thread
        shown = thread.bubbles[-SHOWN:]
        drawn: dict[int, tuple[str, widgets.Widget, list[widgets.Button]]] = {}
        for bubble in shown:
            choices = thread.buttons(bubble)
            page = bubble_html(bubble, thread.words(bubble))
            old = self._drawn.pop(bubble.id, None)
            if old is not None and [b.tooltip for b in old[2]] == [p for _, p in choices]:
                if old[0] != page:
                    view = old[1]
                    (view.children[0] if isinstance(view, widgets.VBox) else view).value = page
                drawn[bubble.id] = (page, old[1], old[2])
                continue
            if old is not None:
                _close(old[1])
            drawn[bubble.id] = self._bubble_view(page, choices)
        for _, view, _ in self._drawn.values():  # another thread's, or scrolled out
            _close(view)
        self._drawn = drawn
        children = [view for _, view, _ in reversed(drawn.values())]  # column-reverse: newest first
        if not shown:
            who = html.escape(f"{thread.contact or '(no contact)'} on {thread.channel}")
            self._empty.value = f"<i style='color:#667781'>no messages with {who} yet: write one below</i>"
            children = [self._empty]
        if list(self.chat.children) != children:
            self.chat.children = children

    def _bubble_view(
        self, page: str, choices: list[tuple[str, str]]
    ) -> tuple[str, widgets.Widget, list[widgets.Button]]:
        bubble = widgets.HTML(page, layout=widgets.Layout(width="100%"))
        if not choices:
            return page, bubble, []
        buttons = []
        for label, postback in choices:
            button = widgets.Button(description=label, tooltip=postback, layout=widgets.Layout(width="auto"))
            button.add_class("sinch-nb-choice")
            button.on_click(lambda _, postback=postback: self.choose(postback))
            buttons.append(button)
        row = widgets.HBox(buttons, layout=widgets.Layout(flex_flow="row wrap", margin="0 0 4px 8px"))
        return page, widgets.VBox([bubble, row], layout=widgets.Layout(width="100%", flex="0 0 auto")), buttons

    def lines(self) -> list[str]:
        """The selected thread as plain text, one line a message: ``contact: hi``, ``app: Hello ✓✓``."""
        thread = self.thread
        out = []
        for bubble in thread.bubbles[-SHOWN:]:
            ticks = bubble.tick_text()
            choices = " ".join(f"[{label}]" for label, _ in thread.buttons(bubble))
            out.append(" ".join(part for part in (f"{bubble.who}: {thread.words(bubble)}", ticks, choices) if part))
        return out

    def text(self) -> str:
        """The chat pad as plain text: the selected thread, or how to start one."""
        contact, channel = self.key
        lines = self.lines() or ["no messages yet: sn.text(...) or the chat pad's Send"]
        return "\n".join([f"chat pad: {contact} on {channel}", *lines])

    def html(self) -> str:
        """The selected thread's bubbles as static HTML."""
        thread = self.thread
        head = f"<div><b>chat pad</b>: {html.escape(thread.contact)} on {html.escape(thread.channel)}</div>"
        body = "".join(bubble_html(b, thread.words(b), thread.buttons(b)) for b in thread.bubbles[-SHOWN:])
        return f"<div class='sinch-nb-chatpad' style='width:480px'>{head}{body or '<i>no messages yet</i>'}</div>"
