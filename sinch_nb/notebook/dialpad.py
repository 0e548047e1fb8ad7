"""``sn.dialpad()``: a softphone in the notebook. Call, press keys, hear the answers, hang up.

Each key sends what a real caller's key would (a PIE once the menu has its input); silence
longer than the menu's ``timeoutMills`` sends the timeout; Hang up sends the DiCE.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..simulate.caller import Call, Transport, new_call

__all__ = ["Dialpad"]

KEYS = "123456789*0#"
ICONS = {"app": "♪", "caller": "☎", "callee": "☏", "sinch": "⚙", "sinch_nb": "✗"}  # glyphs every default font has
DEFAULT_TIMEOUT_S = 5.0


class Dialpad:
    """The widget and the call behind it; ``widget`` is what the notebook shows."""

    def __init__(
        self,
        transport_factory: Callable[[], Transport],
        *,
        cli: str = "+15551234567",
        to: str = "+15559876543",
        call_options: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.transport_factory = transport_factory
        self.call_options = call_options or {}
        self.timeout = timeout
        self.call: Call | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.RLock()
        self.from_box = widgets.Text(cli, description="From", layout=widgets.Layout(width="220px"))
        self.to_box = widgets.Text(to, description="To", layout=widgets.Layout(width="220px"))
        self.call_button = widgets.Button(description="Call", button_style="success", icon="phone")
        self.hangup_button = widgets.Button(description="Hang up", button_style="danger", disabled=True)
        self.keys = {key: widgets.Button(description=key, layout=widgets.Layout(width="48px")) for key in KEYS}
        self.status = widgets.HTML("<i>ready</i>")
        self.transcript = widgets.HTML("")
        self.call_button.on_click(lambda _: self.dial())
        self.hangup_button.on_click(lambda _: self.hang_up())
        for key, button in self.keys.items():
            button.on_click(lambda _, key=key: self.press(key))
        pad = widgets.GridBox(
            list(self.keys.values()), layout=widgets.Layout(grid_template_columns="repeat(3, 52px)", grid_gap="4px")
        )
        controls = widgets.VBox([self.from_box, self.to_box, widgets.HBox([self.call_button, self.hangup_button])])
        self.widget = widgets.VBox(
            [widgets.HBox([controls, pad]), self.status, self.transcript],
            layout=widgets.Layout(border="1px solid #d0d7de", padding="8px", width="560px"),
        )
        self.widget.add_class("sinch-nb-dialpad")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        fallback = {
            "text/plain": self.text() or "dial pad: widgets do not render here; use sn.dial(cli, to, press=[...])",
            "text/html": self.transcript.value or "<i>dial pad: widgets do not render here; use sn.dial()</i>",
        }
        return {**(self.widget._repr_mimebundle_(**kwargs) or {}), **fallback}

    # Actions --------------------------------------------------------------

    def dial(self) -> None:
        """Place the call (hanging up one in progress first)."""
        with self._lock:
            if self.call is not None and self.call.state not in ("ended", "idle"):
                self.call.hang_up()
            options = dict(self.call_options)
            self.call = new_call(
                options.pop("api", "v1"),
                self.transport_factory(),
                self.from_box.value,
                self.to_box.value,
                on_change=lambda call: self._render(),
                **options,
            )
            self.call.start()
            self._arm_timer()

    def press(self, key: str) -> None:
        """Press one key."""
        with self._lock:
            if self.call is None or self.call.state == "ended":
                self.status.value = "<i>no call: press Call first</i>"
                return
            self.call.press(key)
            self._arm_timer()

    def hang_up(self) -> None:
        """End the call."""
        with self._lock:
            self._cancel_timer()
            if self.call is not None:
                self.call.hang_up()

    def silence(self) -> None:
        """What the timer does: the caller said nothing for the menu's timeout."""
        with self._lock:
            if self.call is not None and self.call.state == "menu":
                self.call.wait()
                self._arm_timer()

    # Timer ----------------------------------------------------------------

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm_timer(self) -> None:
        self._cancel_timer()
        call = self.call
        if call is None or call.state != "menu" or call.menu is None:
            return
        seconds = self.timeout
        if seconds is None:
            mills = call.menu.current.get("timeoutMills")
            seconds = int(mills) / 1000 if mills else DEFAULT_TIMEOUT_S
        self._timer = threading.Timer(seconds, self.silence)
        self._timer.daemon = True
        self._timer.start()

    # View -----------------------------------------------------------------

    def _render(self) -> None:
        call = self.call
        if call is None:
            return
        self.hangup_button.disabled = call.state in ("ended", "idle")
        waiting = " — press keys" if call.state == "menu" else ""
        self.status.value = (
            f"<b>{html.escape(call.state)}</b>{waiting} · call {html.escape(call.transcript.call_id[:8])}"
        )
        rows = "".join(
            f"<div class='sinch-nb-line sinch-nb-{step.party}'>{ICONS.get(step.party, '')} "
            f"<b>{html.escape(step.action)}</b> {html.escape(step.text)}</div>"
            for step in call.transcript.steps
        )
        self.transcript.value = f"<div class='sinch-nb-transcript'>{rows}</div>"

    def text(self) -> str:
        """The transcript as plain text (what the caller heard and did)."""
        call = self.call
        return (
            "" if call is None else "\n".join(f"{s.party}: {s.action} {s.text}".strip() for s in call.transcript.steps)
        )
