#!/usr/bin/env python3
# A tiny custom handler for cargo-azfunc's tests: it answers like a handler
# would, and echoes what the host sent so the tests can check it.
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

start = os.environ.get("FAKE_START", "")
marker = os.environ.get("FAKE_MARKER", "")
pid_file = os.environ.get("FAKE_PID_FILE", "")
if os.environ.get("FAKE_TERM") == "ignore":
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if pid_file:
    # Each start appends "handler PID" (and "child PID" for the process it
    # starts with FAKE_CHILD=1), so tests can see who is still alive.
    with open(pid_file, "a") as f:
        f.write("handler %d\n" % os.getpid())
    if os.environ.get("FAKE_CHILD") == "1":
        import subprocess
        child = subprocess.Popen(["sleep", "300"])
        with open(pid_file, "a") as f:
            f.write("child %d\n" % child.pid)
if start == "exit200":
    sys.exit(200)
if start == "exit3":
    sys.exit(3)
if start == "exit0":
    sys.exit(0)
if start == "crash_once" and marker and not os.path.exists(marker):
    open(marker, "w").close()
    sys.exit(3)


def orphan_watch():
    # Exit when the process that started us dies, so that a test killed
    # half-way never leaves a handler behind.
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(9)


if os.environ.get("FAKE_ORPHAN_WATCH") != "off":
    threading.Thread(target=orphan_watch, daemon=True).start()
if start == "never":
    time.sleep(3600)

print("fake handler starting", flush=True)
print("a warning on stderr", file=sys.stderr, flush=True)
ENV = ["FUNCTIONS_CUSTOMHANDLER_PORT", "FUNCTIONS_HTTPWORKER_PORT", "FUNCTIONS_CUSTOMHANDLER_WORKER_ID",
       "FUNCTIONS_HTTPWORKER_ID", "FUNCTIONS_APP_ROOT_PATH", "FROM_SETTINGS", "EXTRA"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            pieces = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(pieces)
                pieces.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send(self, status, content_type, payload):
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
        self.wfile.flush()

    def do_GET(self):
        self.send(404, "text/plain", b"not here")

    def do_POST(self):
        raw = self.read_body()
        name = self.path.lstrip("/")
        seen = {
            "envelope": json.loads(raw or b"null"),
            "transfer_encoding": self.headers.get("Transfer-Encoding"),
            "content_length": self.headers.get("Content-Length"),
            "content_type": self.headers.get("Content-Type"),
            "invocation_id": self.headers.get("X-Azure-Functions-InvocationId"),
            "host_version": self.headers.get("X-Azure-Functions-HostVersion"),
            "user_agent": self.headers.get("User-Agent"),
            "path": self.path,
            "env": {k: os.environ.get(k) for k in ENV},
            "cwd": os.getcwd(),
            "argv": sys.argv[1:],
            "pid": os.getpid(),
        }
        if name.startswith("Echo"):
            self.send(200, "application/json", {
                "Outputs": {}, "Logs": ["echo"],
                "ReturnValue": {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                                "body": json.dumps(seen)}})
        elif name == "Queue":
            self.send(200, "application/json; charset=utf-8", {
                "Outputs": {"areas": {"radius": 2}, "Areas": "x"},
                "Logs": ["queued " + seen["envelope"]["Data"]["item"]], "ReturnValue": None})
        elif name == "Fail":
            print("Fail failed on purpose", file=sys.stderr, flush=True)
            self.send(500, "application/json", {"Logs": ["lost"]})
        elif name == "Text":
            self.send(200, "text/plain", b"hello")
        elif name == "Exit":
            self.send(200, "application/json", {"Outputs": {}, "Logs": [], "ReturnValue": {"body": "bye"}})
            os._exit(int(os.environ.get("FAKE_EXIT_CODE", "0")))
        elif name == "Reply":
            # The caller's body says what to answer: {"content_type": ...,
            # "envelope": {...}, "print": "a line for stdout and stderr"}.
            wanted = json.loads(seen["envelope"]["Data"]["req"].get("Body") or "{}")
            if "print" in wanted:
                print(wanted["print"], flush=True)
                print(wanted["print"], file=sys.stderr, flush=True)
            self.send(200, wanted.get("content_type", "application/json"), wanted.get("envelope", {}))
        elif name == "Flood":
            # An endless reply: a JSON object that never closes.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            piece = b"[" * (1 << 20)
            frame = b"%x\r\n%s\r\n" % (len(piece), piece)
            try:
                self.wfile.write(b"1\r\n{\r\n")
                while True:
                    self.wfile.write(frame)
            except OSError:
                return
        elif name.lower().startswith("api/slow"):
            # A forwarded request to Slow: sleeps as many seconds as the
            # body says, then answers its pid.
            time.sleep(float(raw or b"0"))
            self.send(200, "text/plain", str(os.getpid()).encode())
        elif name.startswith("Slow"):
            # Slow*: sleeps FAKE_SLOW_SECONDS (5 by default), or as many
            # seconds as an HTTP caller's body says, then says who it was
            # and what dequeue count it got; an HTTP caller gets the pid.
            req = seen["envelope"]["Data"].get("req")
            seconds = float(os.environ.get("FAKE_SLOW_SECONDS", "5"))
            if isinstance(req, dict) and req.get("Body"):
                seconds = float(req["Body"])
            time.sleep(seconds)
            count = seen["envelope"]["Metadata"].get("DequeueCount")
            returned = {"statusCode": 200, "body": str(os.getpid())} if isinstance(req, dict) else None
            self.send(200, "application/json", {
                "Outputs": {}, "ReturnValue": returned,
                "Logs": ["%s ran on pid %d, dequeue count %s" % (name, os.getpid(), count)]})
        elif name.startswith("Startup"):
            # Startup*: what the timer sent.
            data = json.dumps(seen["envelope"]["Data"], sort_keys=True)
            self.send(200, "application/json", {"Outputs": {}, "Logs": [name + " ran " + data]})
        elif name == "Orch":
            # An orchestrator: appends each request's base64 as a line to
            # FAKE_ORCH_LOG and answers the line of FAKE_ORCH_REPLIES (base64
            # OrchestratorResponses) with the same number.
            context = seen["envelope"]["Data"]["context"]
            while context.startswith('"'):
                context = json.loads(context)
            log = os.environ["FAKE_ORCH_LOG"]
            with open(log, "a") as f:
                f.write(context + "\n")
            with open(log) as f:
                step = len(f.readlines()) - 1
            with open(os.environ["FAKE_ORCH_REPLIES"]) as f:
                replies = f.read().split()
            self.send(200, "application/json", {"Outputs": {}, "Logs": [],
                                                "ReturnValue": replies[min(step, len(replies) - 1)]})
        elif name == "Missing":
            self.send(404, "text/plain", b"no such function")
        else:
            self.send(200, "application/json", {"Outputs": {}, "Logs": [name + " ran"]})


ThreadingHTTPServer(("127.0.0.1", int(os.environ["FUNCTIONS_CUSTOMHANDLER_PORT"])), Handler).serve_forever()
