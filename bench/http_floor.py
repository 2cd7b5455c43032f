"""The floor of one call to WeChat on this machine: our HTTP client against the barest stand-in.

``wechat.transport.send`` posts the body of a message/template/send (``--calls`` times, ``--threads`` at once,
as a push's sending threads do) to a WSGI app that only answers a fixed JSON body, served by gunicorn gthread
with keep-alive, as ``manage.py sandbox_serve`` serves the sandbox. It prints the CPU per call of this process
(the client: request bytes, socket, reading the answer, JSON both ways) and of the server, the least that any
stand-in served this way costs. A template push costs at least the first on our side and the second on WeChat's.

    .venv/bin/python bench/http_floor.py [--calls 20000] [--threads 16] [--latency-ms 20]

Last line: ``http_floor: <C> cpu-ms/call client, <S> cpu-ms/call bare server, <R> calls/s``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

from _cpu import CpuMeter
from _servers import BIN, ROOT, _stop, _wait_for_port, free_port
from _setup import ROOT as _on_path  # noqa: F401  the project importable, settings chosen

PAYLOAD = {
    "touser": "oBench0000000000000000000001",
    "template_id": "x" * 43,
    "client_msg_id": "tp1-0123456789abcdef0123",
    "data": {"keyword1": {"value": "巧克力"}, "keyword2": {"value": "39.8元"}, "keyword3": {"value": "2026年11月11日"}},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args()
    import django

    django.setup()
    from wechat import transport

    port = free_port()
    command = [str(BIN / "gunicorn"), "_bare_wechat:application", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT / "bench")]
    command += ["--worker-class", "gthread", "--workers", "2", "--threads", "128", "--keep-alive", "75", "--log-level", "warning"]
    server = subprocess.Popen(command, env={**os.environ, "BARE_LATENCY_MS": str(args.latency_ms)})
    try:
        _wait_for_port(port, server, "the bare server")
        url = f"http://127.0.0.1:{port}/cgi-bin/message/template/send"
        query = [("access_token", "T" * 136)]
        headers = {"Content-Type": "application/json; charset=utf-8"}

        def work(n: int) -> None:
            for _ in range(n):
                body = json.dumps(PAYLOAD, ensure_ascii=False).encode("utf-8")
                reply = transport.send("POST", url, query=query, body=body, headers=headers)
                json.loads(reply.content)

        work(50)  # connections opened and code warmed before measuring
        cpu = CpuMeter(not_ours=[server.pid])
        cpu.start()
        began = time.monotonic()
        threads = [threading.Thread(target=work, args=(args.calls // args.threads,)) for _ in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        spent = cpu.breakdown()
    finally:
        _stop(server)
    calls = args.calls // args.threads * args.threads
    print(f"{calls} calls, {args.threads} threads, {args.latency_ms} ms per call, {elapsed:.2f} s")
    print(
        f"http_floor: {1000 * spent['ours'] / calls:.3f} cpu-ms/call client, {1000 * spent['theirs'] / calls:.3f} cpu-ms/call"
        f" bare server, {calls / elapsed:.0f} calls/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
