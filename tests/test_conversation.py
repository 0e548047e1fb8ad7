"""The simulated conversation (issue 13): the official SDK clients against the local platform, rule by rule (C1–C8)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import payload

from sinch_nb.simulate.channels import sms_segments


def replying(sn: Any, send: Any) -> list[Any]:
    """A conversation handler that answers each inbound message with ``send(context, event)``; returns what it saw."""
    seen: list[Any] = []

    @sn.conversation
    def handler(context: Any, event: Any) -> None:
        seen.append((event.trigger, event.raw))
        if event.trigger == "MESSAGE_INBOUND":
            send(context, event)

    return seen


def text_reply(context: Any, event: Any) -> None:
    context.conversation.messages.send_text_message(
        app_id="sim-app",
        text=f"Thanks! You wrote: {event.text}",
        recipient_identities=[{"channel": event.channel, "identity": event.identity}],
    )


def test_c1_the_sdk_client_reaches_the_local_platform_on_simulated_traffic(sn: Any) -> None:
    replying(sn, text_reply)
    exchange = sn.text("Are you open on Saturday?", from_="+15551234567")
    assert exchange["who"].tolist() == ["contact", "app", "sinch", "sinch"]
    assert exchange["text"].tolist()[:2] == [
        "Are you open on Saturday?",
        "Thanks! You wrote: Are you open on Saturday?",
    ]
    sent = sn.callbacks(kind="outbound", bodies=True).iloc[0]
    body = json.loads(sent["request_body"])  # the request the official SDK built
    assert body["app_id"] == "sim-app" and body["message"] == {"text_message": {"text": exchange["text"][1]}}
    assert body["recipient"] == {
        "identified_by": {"channel_identities": [{"channel": "SMS", "identity": "+15551234567"}]}
    }
    assert sent["path"] == "/sinch-nb/platform/v1/projects/sinch-nb-simulator/messages:send"
    assert not sn.last_error()


def test_c1_a_malformed_message_is_refused_at_once_and_the_app_sees_the_error(sn: Any) -> None:
    import sinch_nb

    def bad(context: Any, event: Any) -> None:
        token = context.conversation._sinch.configuration.token_manager.get_auth_token().access_token
        base = context.conversation._sinch.configuration.conversation_origin
        response = httpx.post(
            f"{base}/v1/projects/sinch-nb-simulator/messages:send",
            json={"app_id": "a", "recipient": {"identified_by": {"channel_identities": [{"channel": "SMS"}]}}},
            headers={"authorization": f"Bearer {token}"},
        )
        context.log.info("status %s: %s", response.status_code, response.json()["error"]["status"])

    replying(sn, bad)
    sn.text("hi")
    logs = sinch_nb.callback(int(sn.callbacks(kind="conversation").index[0]))["logs"]
    assert logs[0]["message"] == "status 400: INVALID_ARGUMENT"
    assert sn.callbacks(kind="outbound")["outcome"].astype(str).tolist() == ["rejected"]


@pytest.mark.parametrize(
    ("channel", "statuses"),
    [
        ("SMS", ["QUEUED_ON_CHANNEL", "DELIVERED"]),
        ("WHATSAPP", ["QUEUED_ON_CHANNEL", "DELIVERED", "READ"]),
        ("RCS", ["QUEUED_ON_CHANNEL", "DELIVERED", "READ"]),
        ("MESSENGER", ["QUEUED_ON_CHANNEL", "DELIVERED"]),
    ],
)
def test_c3_delivery_events_follow_each_channel(sn: Any, channel: str, statuses: list[str]) -> None:
    seen = replying(sn, text_reply)
    exchange = sn.text("hello", from_="+15557654321", channel=channel)
    assert exchange[exchange["who"] == "sinch"]["status"].tolist() == statuses
    deliveries = [raw for trigger, raw in seen if trigger == "MESSAGE_DELIVERY"]
    assert [d["message_delivery_report"]["status"] for d in deliveries] == statuses  # the handler got each
    assert {d["message_delivery_report"]["channel_identity"]["channel"] for d in deliveries} == {channel}


def test_c3_deliveries_are_signed_when_the_webhook_secret_is_known(sn: Any) -> None:
    sn.configure(conversation_secret="webhook-secret")
    replying(sn, text_reply)
    sn.text("hello")
    assert set(sn.callbacks(kind="conversation")["signature"].astype(str)) == {"valid"}


def test_c4_whatsapp_free_form_outside_the_window_fails_and_a_template_goes_through(sn: Any) -> None:
    def proactive(context: Any, event: Any) -> None:  # writes to someone who never wrote
        for message in (
            {"text_message": {"text": "Your order shipped"}},
            {"template_message": {"omni_template": {"template_id": "order_update", "version": "1"}}},
        ):
            context.conversation.messages.send(
                app_id="sim-app",
                message=message,
                recipient_identities=[{"channel": "WHATSAPP", "identity": "+15550009999"}],
            )

    replying(sn, proactive)
    exchange = sn.text("ship it", from_="+15551234567")
    other = exchange[exchange["contact"] == "+15550009999"]
    failed = other[other["status"] == "FAILED"]
    assert len(failed) == 1 and failed["note"].iloc[0].startswith(
        "OUTSIDE_ALLOWED_SENDING_WINDOW: The underlying channel"
    )
    assert "READ" in other["status"].tolist()  # the template was delivered and read
    replying(sn, text_reply)
    answered = sn.text("hi", from_="+15550009999", channel="WHATSAPP")  # the contact writes: the window opens
    assert "FAILED" not in answered["status"].tolist()


def test_c5_sms_parts_gsm7_and_ucs2(sn: Any) -> None:
    assert sms_segments("a" * 160) == (1, "GSM-7") and sms_segments("a" * 161) == (2, "GSM-7")
    assert sms_segments("€" * 80) == (1, "GSM-7") and sms_segments("€" * 81) == (2, "GSM-7")  # extension: 2 each
    assert sms_segments("é" * 160) == (1, "GSM-7") and sms_segments("ł" * 70) == (1, "UCS-2")
    assert sms_segments("ł" * 71) == (2, "UCS-2") and sms_segments("😀" * 35) == (1, "UCS-2")
    replying(
        sn,
        lambda c, e: c.conversation.messages.send_text_message(
            app_id="a", text="Zażółć " * 20, recipient_identities=[{"channel": "SMS", "identity": e.identity}]
        ),
    )
    exchange = sn.text("long please")
    assert exchange[exchange["who"] == "app"]["note"].iloc[0] == "3 SMS parts, UCS-2"


def test_c2_types_a_channel_lacks_are_transcoded_or_refused(sn: Any) -> None:
    def choices(context: Any, event: Any) -> None:
        context.conversation.messages.send(
            app_id="a",
            message={
                "choice_message": {
                    "text_message": {"text": "Pick"},
                    "choices": [
                        {"text_message": {"text": "Pizza"}, "postback_data": "pizza"},
                        {"text_message": {"text": "Pasta"}, "postback_data": "pasta"},
                    ],
                }
            },
            recipient_identities=[{"channel": event.channel, "identity": event.identity}],
        )
        context.conversation.messages.send(
            app_id="a",
            message={"list_message": {"title": "Menu", "sections": []}},
            recipient_identities=[{"channel": event.channel, "identity": event.identity}],
        )

    replying(sn, choices)
    on_sms = sn.text("menu?", channel="SMS")
    app = on_sms[on_sms["who"] == "app"]
    assert app["text"].iloc[0] == "Pick 1: Pizza 2: Pasta" and "sent as plain text on SMS" in app["note"].iloc[0]
    assert on_sms["note"].str.startswith("BAD_REQUEST: list_message is only carried by WhatsApp").any()
    on_whatsapp = sn.text("menu?", channel="WHATSAPP")
    assert not on_whatsapp["note"].str.contains("plain text|BAD_REQUEST").any()
    chose = sn.text(choice="pizza", channel="WHATSAPP")
    assert chose["text"].iloc[0] == "[chose pizza]"


def test_c8_a_handler_that_replies_to_its_own_deliveries_is_stopped(sn: Any) -> None:
    @sn.conversation
    def loop(context: Any, event: Any) -> None:  # no trigger check: every delivery report draws a reply
        context.conversation.messages.send_text_message(
            app_id="a", text="again", recipient_identities=[{"channel": "SMS", "identity": "+15551234567"}]
        )

    sn.text("hi", from_="+15551234567")
    sent = sn.callbacks(kind="outbound")
    assert (sent["outcome"] == "accepted").sum() == 10
    refused = sent[sent["outcome"] == "rejected"]["error"].astype(str)
    assert len(refused) > 0 and refused.str.contains("check event.trigger == 'MESSAGE_INBOUND'").all()
    failed = sn.callbacks(kind="conversation")["error"].dropna().astype(str)
    assert failed.str.contains("check event.trigger").any()  # the handler saw the refusal as an error


def test_real_traffic_never_reaches_the_local_platform_and_the_network_cannot_either(sn: Any) -> None:
    seen: list[Any] = []

    @sn.conversation
    def handler(context: Any, event: Any) -> None:
        seen.append(bool(context.conversation))

    server = sn.start()
    inbound = payload("conversation-message-inbound")
    response = httpx.post(f"{server.url}/webhook/conversation", json=inbound)  # real traffic: no credentials here
    assert response.status_code == 200 and seen == [False]
    forwarded = httpx.post(
        f"{server.url}/sinch-nb/platform/oauth2/token",
        headers={"x-forwarded-for": "203.0.113.9"},
        data={"grant_type": "client_credentials"},
    )
    assert forwarded.status_code == 404  # through a tunnel the platform's routes do not exist
    direct = httpx.post(f"{server.url}/sinch-nb/platform/oauth2/token", data={"grant_type": "client_credentials"})
    assert direct.status_code == 401  # and locally they need this process's own credentials


def test_conversations_fold_the_threads(sn: Any) -> None:
    replying(sn, text_reply)
    sn.text("one", from_="+15551111111")
    sn.text("two", from_="+15551111111")
    sn.text("three", from_="+15552222222", channel="RCS")
    threads = sn.conversations()
    assert threads[["contact", "channel", "from_contact", "from_app", "delivered", "read"]].values.tolist() == [
        ["+15551111111", "SMS", 2, 2, 2, 0],
        ["+15552222222", "RCS", 1, 1, 1, 1],
    ]
