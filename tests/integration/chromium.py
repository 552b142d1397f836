"""Headless Chromium driven over the DevTools protocol, for page tests.

Chromium (Debian's `chromium`, installed by scripts/setup) runs with
--remote-debugging-pipe: the protocol's JSON messages, each ended by a NUL
byte, go to the browser on file descriptor 3 and come back on 4. That needs
nothing beyond the standard library (no WebSocket client, no driver
download). One Browser has one page (a tab) the test drives:

    with Browser() as browser:
        browser.navigate(url)
        browser.wait_for("document.querySelector('#tables') !== null")
        browser.screenshot(path)

Uncaught exceptions and console errors in the page are collected
(page_errors()), so a test can insist that the page ran cleanly.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time


def find_chromium():
    """The Chromium binary; a missing one fails the test (it is not
    skipped: scripts/setup installs it)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise AssertionError("chromium is not installed: run scripts/setup")
    return path


class BrowserError(Exception):
    pass


class Browser:
    def __init__(self, width=1280, height=900, timeout=30.0):
        self.width = width
        self.height = height
        self.timeout = timeout
        self._next_id = 0
        self._replies = {}
        self._events = []
        self._cv = threading.Condition()
        self._closed = False
        self._session = None
        self.process = None

    # -- lifecycle -------------------------------------------------------------

    def start(self):
        binary = find_chromium()
        self._profile = tempfile.mkdtemp(prefix="eddy-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def child_fds():
            # fd 3: what the browser reads; fd 4: what it writes. Move both
            # out of the way first so neither dup2 clobbers the other.
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--hide-scrollbars",
             "--remote-debugging-pipe", f"--user-data-dir={self._profile}",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, preexec_fn=child_fds, close_fds=False,
            start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

        targets = self.send("Target.getTargets")["targetInfos"]
        page = next((t for t in targets if t["type"] == "page"), None)
        target_id = page["targetId"] if page else self.send(
            "Target.createTarget", url="about:blank")["targetId"]
        self._session = self.send("Target.attachToTarget", targetId=target_id,
                                  flatten=True)["sessionId"]
        self.page("Page.enable")
        self.page("Runtime.enable")
        self.page("Log.enable")
        self.page("Emulation.setDeviceMetricsOverride", width=self.width,
                  height=self.height, deviceScaleFactor=1, mobile=False)
        return self

    def close(self):
        if self.process is None:
            return
        try:
            self.send("Browser.close", timeout=5)
        except BrowserError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self._to_browser)
        self._reader.join(timeout=5)
        os.close(self._from_browser)
        shutil.rmtree(self._profile, ignore_errors=True)
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    # -- the protocol ------------------------------------------------------------

    def _read_loop(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._cv:
                    if "id" in message:
                        self._replies[message["id"]] = message
                    else:
                        self._events.append(message)
                    self._cv.notify_all()
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def send(self, method, session=None, timeout=None, **params):
        with self._cv:
            self._next_id += 1
            message_id = self._next_id
        message = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._to_browser, data):]
        except OSError as e:
            raise BrowserError(f"{method}: the browser is gone ({e})") from e
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cv:
            while message_id not in self._replies:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise BrowserError(f"{method}: no reply from the browser")
                self._cv.wait(left)
            reply = self._replies.pop(message_id)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def page(self, method, **params):
        """A command to the page's session."""
        return self.send(method, session=self._session, **params)

    # -- what tests use ----------------------------------------------------------

    def navigate(self, url):
        result = self.page("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"navigation to {url} failed: {result['errorText']}")
        # Polled rather than awaited as an event: a change of the hash
        # alone is a same-document navigation, with no load event.
        self.wait_for(f"location.href === {json.dumps(url)} && "
                      "document.readyState === 'complete'", what=f"loading {url}")

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (promises are
        awaited); exceptions become BrowserError."""
        result = self.page("Runtime.evaluate", expression=expression,
                           returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"{expression!r} threw: {text}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=None, what=None):
        """Polls a JavaScript expression until it is truthy; returns it."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what or expression}; page text:\n"
                    f"{self.evaluate('document.body && document.body.innerText')}")
            time.sleep(0.05)

    def screenshot(self, path):
        data = self.page("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def page_errors(self):
        """Uncaught exceptions and console errors the page reported."""
        with self._cv:
            events = list(self._events)
        errors = []
        for e in events:
            if e.get("method") == "Runtime.exceptionThrown":
                d = e["params"]["exceptionDetails"]
                errors.append(d.get("exception", {}).get("description") or d.get("text"))
            elif (e.get("method") == "Log.entryAdded"
                  and e["params"]["entry"]["level"] == "error"
                  # An HTTP error status (a denial the page shows) is not
                  # a page error.
                  and e["params"]["entry"].get("source") != "network"):
                errors.append(e["params"]["entry"]["text"])
            elif (e.get("method") == "Runtime.consoleAPICalled"
                  and e["params"]["type"] == "error"):
                errors.append(" ".join(str(a.get("value", a.get("description")))
                                       for a in e["params"]["args"]))
        return errors
