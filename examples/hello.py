"""A first look at the sandbox: run with `make run` or `harvester py examples/hello.py`."""
import json
import os
import platform
import sys


def try_escape(what: str, attempt) -> str:
    try:
        attempt()
    except OSError as e:
        return f"{what}: refused ({e.strerror})"
    return f"{what}: ALLOWED"


print(f"Python {platform.python_version()} on {sys.platform}, inside harvester's WebAssembly sandbox")
print(json.dumps({"argv": sys.argv, "cwd_listing": sorted(os.listdir("/app"))[:5]}))
print(try_escape("read /etc/passwd", lambda: open("/etc/passwd")))
print(try_escape("write a file", lambda: open("/app/out.txt", "w")))
print(try_escape("list /", lambda: os.listdir("/")))
