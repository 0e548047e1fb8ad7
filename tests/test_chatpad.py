"""The chat pad without a browser (ipywidgets' DummyComm): threads, bubbles, ticks, choices, the fallback."""

from __future__ import annotations

from typing import Any

import pytest
from test_widgets import wait_for

QUESTION = {
    "text_message": {"text": "Which size?"},
    "choices": [
        {"text_message": {"text": "Small"}, "postback_data": "size=S"},
        {"text_message": {"text": "Large"}, "postback_data": "size=L"},
    ],
}


def replier(sn: Any, *, choice: bool = False, text: str | None = None) -> list[dict[str, Any]]:
    """Register a conversation handler that thanks the contact (and asks ``QUESTION``); returns what it saw."""
    seen: list[dict[str, Any]] = []

    @sn.conversation
    def on_message(context: Any, event: Any) -> None:
        if event.trigger != "MESSAGE_INBOUND":
            return
        seen.append(event.raw["message"]["contact_message"])
        to = [{"channel": event.channel, "identity": event.identity}]
        messages = context.conversation.messages
        reply = text if text is not None else f"Thanks! You wrote: {event.text}"
        messages.send_text_message(app_id=event.app_id, text=reply, recipient_identities=to)
        if choice:
            messages.send_choice_message(app_id=event.app_id, choice_message=QUESTION, recipient_identities=to)

    return seen


def app_bubbles(pad: Any) -> list[str]:
    """The HTML of the app's bubbles in the widget, oldest first."""
    views = reversed(pad.chat.children)  # column-reverse: the newest is first
    pages = [(view.children[0] if hasattr(view, "children") else view).value for view in views]
    return [page for page in pages if "sinch-nb-app" in page]


def choice_buttons(pad: Any) -> list[Any]:
    """The choice buttons drawn in the thread, oldest first."""
    return [
        button
        for view in reversed(pad.chat.children)
        if hasattr(view, "children")
        for button in view.children[1].children
        if "sinch-nb-choice" in button._dom_classes
    ]


def test_send_shows_the_contact_bubble_the_reply_and_sms_ticks(sn: Any) -> None:
    replier(sn)
    pad = sn.chatpad(contact="+15551234567", channel="SMS")
    assert pad.lines() == []
    pad.message.value = "Are you open on Saturday?"
    pad.send_button.click()
    assert pad.lines() == [
        "contact: Are you open on Saturday?",
        "app: Thanks! You wrote: Are you open on Saturday? ✓✓",  # SMS: delivered, never read
    ]
    (reply,) = pad.thread.bubbles[1:]
    assert reply.status == "DELIVERED" and [s for s, _ in reply.history] == ["QUEUED_ON_CHANNEL", "DELIVERED"]
    (page,) = app_bubbles(pad)
    assert 'data-status="DELIVERED"' in page and ">✓✓</span>" in page and "justify-content:flex-start" in page
    assert "1 SMS part, GSM-7" in page  # what the platform noted about it
    contact = pad.chat.children[-1].value
    assert "sinch-nb-contact" in contact and "justify-content:flex-end" in contact  # the contact on the right
    assert pad.message.value == ""  # the send box is emptied
    assert "answered with 1 message" in pad.status.value


def test_whatsapp_reports_read_as_blue_ticks(sn: Any) -> None:
    replier(sn)
    pad = sn.chatpad(contact="+15551230000", channel="WHATSAPP")
    pad.send("Hi")
    assert pad.lines()[-1] == "app: Thanks! You wrote: Hi ✓✓ read"
    (page,) = app_bubbles(pad)
    assert 'data-status="READ"' in page and "color:#1d9bf0" in page
    assert "queued on the channel" in page and "delivered" in page and "read " in page  # each step, on hover


def test_a_failed_delivery_is_a_cross_with_its_reason(sn: Any) -> None:
    replier(sn, text="x" * 5000)  # C6: WhatsApp text is at most 4096 characters
    pad = sn.chatpad(contact="+15551230000", channel="WHATSAPP")
    pad.send("Tell me everything")
    reply = pad.thread.bubbles[-1]
    assert reply.status == "FAILED" and "4096" in reply.reason
    assert pad.lines()[-1].endswith(f"✗ failed: {reply.reason}")
    (page,) = app_bubbles(pad)
    assert 'data-status="FAILED"' in page and "sinch-nb-failed" in page  # the reason under the bubble


def test_choices_are_buttons_that_send_the_postback(sn: Any) -> None:
    seen = replier(sn, choice=True)
    pad = sn.chatpad(contact="+15551230000", channel="WHATSAPP")
    pad.send("Pizza please")
    assert pad.lines()[-1] == "app: Which size? ✓✓ read [Small] [Large]"
    buttons = choice_buttons(pad)
    assert [b.description for b in buttons] == ["Small", "Large"]
    buttons[1].click()
    assert list(seen[-1]) == ["choice_response_message"]  # what the handler saw: the tapped choice
    assert seen[-1]["choice_response_message"]["postback_data"] == "size=L"
    assert "contact: [chose size=L]" in pad.lines()
    assert len(choice_buttons(pad)) == 4  # the app asked again; every offer stays tappable, as on the phone


def test_sms_shows_choices_as_text_not_buttons(sn: Any) -> None:
    replier(sn, choice=True)
    pad = sn.chatpad(contact="+15551230000", channel="SMS")
    pad.send("Pizza please")
    assert pad.lines()[-1] == "app: Which size? 1: Small 2: Large ✓✓"  # what an SMS contact reads
    assert choice_buttons(pad) == []
    assert "sent as plain text on SMS" in app_bubbles(pad)[-1]


def test_a_media_url_sends_a_media_message(sn: Any) -> None:
    seen = replier(sn)
    pad = sn.chatpad()
    pad.media.value = "https://example.com/menu.jpg"
    pad.send_button.click()
    assert seen == [{"media_message": {"url": "https://example.com/menu.jpg"}}]
    assert pad.lines()[0] == "contact: [media https://example.com/menu.jpg]"
    assert pad.media.value == ""


def test_enter_in_the_message_box_sends(sn: Any) -> None:
    seen = replier(sn)
    pad = sn.chatpad()
    pad.message.value = "hello"
    pad.message._handle_custom_msg({"event": "submit"}, [])  # what the browser sends on Enter
    assert seen == [{"text_message": {"text": "hello"}}]


def test_a_failing_handler_is_said_on_the_contact_bubble(sn: Any) -> None:
    @sn.conversation
    def broken(context: Any, event: Any) -> None:
        raise RuntimeError("kitchen on fire")

    pad = sn.chatpad()
    pad.send("hello")
    assert "kitchen on fire" in pad.status.value
    assert "the app failed" in pad.chat.children[-1].value and "sn.last_error()" in pad.chat.children[-1].value


def test_thread_list_has_one_row_per_contact_and_channel_live(sn: Any) -> None:
    replier(sn)
    pad = sn.chatpad()
    sn.text("one", from_="+15550000001")  # another cell: the poller picks it up
    sn.text("two", from_="+15550000001")
    sn.text("three", from_="+15550000001", channel="WHATSAPP")
    sn.text("four", from_="+15550000002")
    wait_for(lambda: len(pad.thread_list.options) == 3)
    keys = [key for _, key in pad.thread_list.options]
    assert keys == [("+15550000002", "SMS"), ("+15550000001", "WHATSAPP"), ("+15550000001", "SMS")]  # newest first
    assert pad.thread_list.value is None  # the pad's own +15551234567 on SMS has no messages yet
    assert "no messages with +15551234567 on SMS yet" in pad.chat.children[0].value
    pad.thread_list.value = ("+15550000001", "SMS")  # a click in the list
    assert (pad.contact.value, pad.channel.value) == ("+15550000001", "SMS")
    assert [line.split(" ✓")[0] for line in pad.lines()] == [
        "contact: one",
        "app: Thanks! You wrote: one",
        "contact: two",
        "app: Thanks! You wrote: two",
    ]
    pad.channel.value = "WHATSAPP"  # the picker moves the selection too
    assert pad.thread_list.value == ("+15550000001", "WHATSAPP")
    assert pad.lines()[0] == "contact: three"


def test_it_opens_on_the_latest_thread(sn: Any) -> None:
    replier(sn)
    sn.text("hola", from_="+34600000000", channel="RCS")
    pad = sn.chatpad()
    assert pad.key == ("+34600000000", "RCS") and pad.lines()[0] == "contact: hola"
    with pytest.raises(ValueError, match="VIBER"):
        sn.chatpad(channel="VIBER")


def test_fallback_is_the_thread_as_text_and_html(sn: Any) -> None:
    replier(sn, choice=True)
    pad = sn.chatpad(channel="WHATSAPP")
    bundle = pad._repr_mimebundle_()
    assert bundle["text/plain"].splitlines()[1] == "no messages yet: sn.text(...) or the chat pad's Send"
    pad.send("hi")
    bundle = pad._repr_mimebundle_()
    assert bundle["text/plain"].splitlines() == [
        "chat pad: +15551234567 on WHATSAPP",
        "contact: hi",
        "app: Thanks! You wrote: hi ✓✓ read",
        "app: Which size? ✓✓ read [Small] [Large]",
    ]
    assert "application/vnd.jupyter.widget-view+json" in bundle  # widgets, where they render
    page = bundle["text/html"]
    assert page.count("sinch-nb-bubble") == 3 and page.count('data-status="READ"') == 2
    assert "sinch-nb-choice-label" in page and ">Large</span>" in page


def test_rerunning_replaces_the_old_one_and_close_stops_it(sn: Any) -> None:
    replier(sn)
    old = sn.chatpad()
    new = sn.chatpad()
    assert sn.get_session().chatpad is new and old._stop.is_set()
    sn.text("after")
    wait_for(lambda: new.lines()[:1] == ["contact: after"])
    assert old.lines() == []  # closed: no longer following the journal
    new.close()
    sn.text("later")
    assert new.lines()[-1].startswith("app: Thanks! You wrote: after")
