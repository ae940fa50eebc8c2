"""The native worker's package, for `scripts/release --native`.

The host's second road for compiled languages (the Go worker's, and the
`native` runtime its design note proposes): the host starts a binary named
`app` in the app root as a language worker, which speaks the host's gRPC
protocol and names its functions itself (worker indexing), so there are no
function folders. The package is:

- `app`: the app's static MUSL release binary built with the feature
  `native` (the same binary still serves as a custom handler);
- `host.json`: the app's, without its `customHandler` section (with one, the
  host would run the app as a custom handler over HTTP);
- `worker.config.json`: the worker configuration, as the Go worker's docs
  keep one in the app root for local runs and as the `native` runtime image
  writes it: language `native`, `app`, worker indexing.

It writes DIR/dist/<name>-native.zip and verifies it as the custom-handler
release is verified: static, runs and answers, then the zip unpacked and
started by `cargo azfunc start` in native mode and invoked once.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

EXECUTABLE = "app"
WORKER_CONFIG = {
    "description": {
        "language": "native",
        "extensions": [],
        "supportedOperatingSystems": ["LINUX"],
        # The release is built for x86_64 only.
        "supportedArchitectures": ["X64"],
        "defaultExecutablePath": EXECUTABLE,
        "workerIndexing": "true",
    },
    "processOptions": {
        "initializationTimeout": "00:02:00",
        "environmentReloadTimeout": "00:02:00",
    },
}
HOST_LIMIT = 120.0  # seconds for `cargo azfunc start` to build and serve


def release(r, custom_executable):
    """`r` is scripts/release (its ROOT, REPO, step, fail and checks)."""
    root = r.ROOT
    manifest = tomllib.loads((root / "Cargo.toml").read_text())
    if "native" not in manifest.get("features", {}):
        r.fail("the app has no feature `native`: add `native = [\"azure-functions-rocket/native\"]` "
               "under [features] in its Cargo.toml")
    stage = root / "dist" / "native"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    binary = r.build(custom_executable, features=("native",), placed=stage / EXECUTABLE)
    r.check_static(binary)
    # One binary for both roads: started without the host's worker
    # arguments, it is the custom handler.
    r.check_runs(binary)
    size = binary.stat().st_size
    r.step(f"{EXECUTABLE} (native) is {size:,} bytes ({size / 1e6:.2f} MB)")
    host = json.loads((root / "host.json").read_text())
    host.pop("customHandler", None)
    (stage / "host.json").write_text(json.dumps(host, indent=2) + "\n")
    (stage / "worker.config.json").write_text(json.dumps(WORKER_CONFIG, indent=2) + "\n")
    archive = root / "dist" / f"{custom_executable}-native.zip"
    write_zip(stage, archive)
    check_zip(r, archive)
    check_under_host(r, archive)
    if shutil.which("unzip"):
        subprocess.run(["unzip", "-Z", str(archive)], check=True)
    r.step("native release verified")


def write_zip(stage, archive):
    archive.unlink(missing_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for name in ("host.json", "worker.config.json"):
            out.write(stage / name, name)
        entry = zipfile.ZipInfo(EXECUTABLE, date_time=time.localtime()[:6])
        entry.compress_type = zipfile.ZIP_DEFLATED
        # Unix mode with create_system 3, or the binary lands without its
        # execute bit.
        entry.create_system = 3
        entry.external_attr = 0o100755 << 16
        out.writestr(entry, (stage / EXECUTABLE).read_bytes())


def check_zip(r, archive):
    expected = {"host.json", "worker.config.json", EXECUTABLE}
    with zipfile.ZipFile(archive) as package:
        names = set(package.namelist())
        if names != expected:
            r.fail(f"the native zip holds {sorted(names)}, expected {sorted(expected)}")
        host = json.loads(package.read("host.json"))
        if any(key.lower() == "customhandler" for key in host):
            r.fail("the native zip's host.json has a customHandler section: the host would not start a worker")
        config = json.loads(package.read("worker.config.json"))
        if config != WORKER_CONFIG:
            r.fail(f"the native zip's worker.config.json is {config}")
        info = package.getinfo(EXECUTABLE)
        mode = info.external_attr >> 16
        if info.create_system != 3 or mode & 0o777 != 0o755 or mode & 0o170000 != 0o100000:
            r.fail(f"the native zip's {EXECUTABLE} entry is not an executable file (mode {oct(mode)})")
        if package.testzip() is not None:
            r.fail("the native zip is corrupt")
    r.step(f"wrote {archive.relative_to(r.ROOT)}: {', '.join(sorted(expected))}")


def check_under_host(r, archive):
    """The zip unpacked as the host would see it, run by `cargo azfunc
    start` as a native worker (local.settings.json: runtime `native`, the
    worker configuration from the app root), and invoked once."""
    folder = Path(tempfile.mkdtemp(prefix="native-release-"))
    try:
        with zipfile.ZipFile(archive) as package:
            package.extractall(folder)
        (folder / EXECUTABLE).chmod(0o755)
        settings = {"IsEncrypted": False, "Values": {
            "FUNCTIONS_WORKER_RUNTIME": "native",
            "languageWorkers__native__workerDirectory": ".",
        }}
        (folder / "local.settings.json").write_text(json.dumps(settings))
        serve(r, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(r, folder):
    port = free_port()
    log_path = folder / "cli.log"
    argv = ["cargo", "run", "-q", "--manifest-path", str(r.REPO / "Cargo.toml"), "-p", "cargo-azfunc", "--",
            "start", "--app", str(folder), "--port", str(port)]
    with open(log_path, "wb") as log_file:
        cli = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                               start_new_session=True)
    started = time.monotonic()
    try:
        while True:
            if cli.poll() is not None:
                r.fail(f"cargo azfunc start exited with {cli.returncode} in native mode:\n"
                       + log_path.read_text(errors="replace")[-2000:])
            answer = invoke(port)
            if answer is not None:
                break
            if time.monotonic() - started > HOST_LIMIT:
                r.fail(f"cargo azfunc start did not serve the native app within {HOST_LIMIT:.0f} s:\n"
                       + log_path.read_text(errors="replace")[-2000:])
            time.sleep(0.1)
        if r.ROOT == r.REPO and answer != {"radius": 2.0, "area": 12.566370614359172}:
            r.fail(f"unexpected answer from the native worker: {answer}")
        r.step(f"cargo azfunc start ran the package as a native worker and it answered: {answer}")
    finally:
        # The CLI and the cargo that started it: a process group of their own.
        try:
            os.killpg(cli.pid, signal.SIGTERM)
            cli.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(cli.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            cli.wait()


def invoke(port):
    """The blog's function once through the CLI's front door: its JSON
    answer, or None while the host is not serving it yet."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/RustFunction", data=b'{"radius": 2}',
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        # Served, but not this function: an app other than the blog's.
        return {"status": error.code} if error.code == 404 else None
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return None
