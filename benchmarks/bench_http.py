"""searchapp's real web server under concurrent clients.

The server runs in its own process (``bench_worker.py`` task ``serve``, which
calls ``searchapp.server.serve``); the clients are threads of the benchmark
process, each with a keep-alive connection, cycling through the query mix.
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench_engines import BenchQuery

_LISTENING = re.compile(r"searchapp on http://([\d.]+):(\d+)/")
START_TIMEOUT_S = 120


def api_path(q: BenchQuery) -> str:
    pairs = [("q", q.text)] if q.text else []
    pairs += [("source", v) for v in q.source] + [("topic", v) for v in q.topic]
    if q.date_from:
        pairs.append(("from", q.date_from))
    if q.date_to:
        pairs.append(("to", q.date_to))
    if q.sort != "relevance":
        pairs.append(("sort", q.sort))
    return "/api/search?" + urlencode(pairs)


def _watch(stream, lines: "queue.Queue[str]") -> None:
    for line in stream:
        lines.put(line)


def _start(command: list[str], env: dict, index: Path, threads: int):
    spec = json.dumps({"task": "serve", "engine": "searchapp", "index": str(index), "threads": threads})
    started = time.perf_counter()
    proc = subprocess.Popen([*command, spec], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=_watch, args=(proc.stderr, lines), daemon=True).start()
    log = []
    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            proc.kill()
            raise RuntimeError("the server did not start:\n" + "".join(log)) from None
        log.append(line)
        match = _LISTENING.search(line)
        if match:
            return proc, match.group(1), int(match.group(2)), started
        if proc.poll() is not None:
            raise RuntimeError("the server stopped:\n" + "".join(log))


def _get(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


def http_load(command: list[str], env: dict, index: Path, queries, clients: int, seconds: float,
              threads: int = 8) -> dict:
    """Start the server, time its first answer, then load it with ``clients`` threads."""
    proc, host, port, started = _start(command, env, index, threads)
    try:
        listening = time.perf_counter()
        conn = http.client.HTTPConnection(host, port, timeout=60)
        status = _get(conn, api_path(queries[0]))
        first = time.perf_counter()
        conn.close()
        if status != 200:
            raise RuntimeError(f"first request answered {status}")
        latencies: list[float] = []
        errors: list[int] = []
        deadline = time.perf_counter() + seconds
        lock = threading.Lock()

        def client(offset: int) -> None:
            c = http.client.HTTPConnection(host, port, timeout=60)
            mine, bad, n = [], [], offset
            while time.perf_counter() < deadline:
                path = api_path(queries[n % len(queries)])
                t0 = time.perf_counter()
                code = _get(c, path)
                mine.append((time.perf_counter() - t0) * 1000)
                if code != 200:
                    bad.append(code)
                n += 1
            c.close()
            with lock:
                latencies.extend(mine)
                errors.extend(bad)

        load_started = time.perf_counter()
        workers = [threading.Thread(target=client, args=(i * 5,)) for i in range(clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        wall = time.perf_counter() - load_started
        peak_kb = _vm_hwm_kb(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {
        "clients": clients, "server_threads": threads, "requests": len(latencies), "errors": len(errors),
        "requests_per_s": len(latencies) / wall, "latencies_ms": latencies,
        "start_to_listening_s": listening - started, "first_request_ms": (first - listening) * 1000,
        "start_to_first_result_s": first - started, "server_peak_rss_mb": round(peak_kb / 1024, 1),
    }


def _vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0
