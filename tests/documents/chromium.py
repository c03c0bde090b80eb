"""Drive Debian's headless Chromium over the DevTools protocol on a pipe (no websocket,
no browser download): load a page, collect console errors, exceptions, failed loads and
network requests, read the rendered text, take a screenshot.

``--remote-debugging-pipe`` makes Chromium read protocol messages from fd 3 and write to
fd 4, each a JSON object followed by a NUL byte.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class Page:
    url: str
    text: str
    png: bytes
    pdf: bytes
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads
    requests: list[str] = field(default_factory=list)  # every URL the page asked for


class Chromium:
    def __init__(self, exe: str, timeout: float = 60.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="cr-chromium-")
        to_browser_r, self._w = os.pipe()
        self._r, from_browser_w = os.pipe()
        # move the child's ends above 4, so that "3<&N 4>&M" cannot overwrite one with the other (bash: any fd)
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
        os.close(to_browser_r)
        os.close(from_browser_w)
        to_browser_r, from_browser_w = moved
        cmd = (
            f'exec "$0" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run '
            f"--no-default-browser-check --hide-scrollbars --mute-audio --remote-debugging-pipe "
            f'--user-data-dir="$1" about:blank 3<&{to_browser_r} 4>&{from_browser_w}'
        )
        self.proc = subprocess.Popen(
            ["bash", "-c", cmd, exe, self.profile],
            pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    # -- protocol ------------------------------------------------------------------------
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited (code {self.proc.poll()})")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        deadline = time.monotonic() + self.timeout
        seen = 0
        while True:
            for ev in self.events[seen:]:
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return ev
            seen = len(self.events)
            self.events.append(self._read_message(deadline))

    # -- pages ---------------------------------------------------------------------------
    def load(self, url: str, width: int = 900, height: int = 1300) -> Page:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        s = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", s)
        self.call(
            "Emulation.setDeviceMetricsOverride", s, width=width, height=height, deviceScaleFactor=1, mobile=False
        )
        start = len(self.events)
        self.call("Page.navigate", s, url=url)
        self.wait_for("Page.loadEventFired", s)
        text = self.call("Runtime.evaluate", s, expression="document.body.innerText", returnByValue=True)
        png = self.call("Page.captureScreenshot", s, format="png")["data"]
        pdf = self.call("Page.printToPDF", s, preferCSSPageSize=True, printBackground=True)["data"]
        page = Page(url, text["result"]["value"], base64.b64decode(png), base64.b64decode(pdf))
        for ev in self.events[start:]:
            if ev.get("sessionId") != s:
                continue
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                page.errors.append("exception: " + p["exceptionDetails"].get("text", ""))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                page.errors.append("console: " + " ".join(str(a.get("value")) for a in p.get("args", [])))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                page.errors.append("log: " + p["entry"].get("text", ""))
            elif m == "Network.loadingFailed":
                page.errors.append("failed load: " + p.get("errorText", ""))
            elif m == "Network.requestWillBeSent":
                page.requests.append(p["request"]["url"])
        self.call("Target.closeTarget", targetId=target)
        return page

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)
