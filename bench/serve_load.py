"""Load test of `handcalc serve`: concurrent students submitting steps to a server on loopback.

Each client is a student working down the default paper: they fill the next step (now and then
with a slip, which the server must diagnose), send every entry typed so far to /api/grade, as the
page does, and pause before the next step; at the end of the paper they start again. The server
runs as `handcalc serve` does, in its own process; only 127.0.0.1 is ever addressed, and the test
stops by itself after the set duration.

Run: python bench/serve_load.py [--clients 50] [--seconds 20] [--pause 1.0]
(prints requests, errors and latency percentiles; needs the serve extra)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

from handcalc.serve import sheet

LOOPBACK = "http://127.0.0.1:"


def papers(count: int, seed: int = 1) -> list[list[tuple[str, list[str]]]]:
    """One worked paper per client: the key's entries, one in ten off by a slip or a typo."""
    sheets = sheet.load(None)
    assert sheets.single is not None
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        steps = []
        for step in sheets.single.steps.values():
            texts = [step.text(i) for i in range(len(step.values))]
            if rng.random() < 0.1:
                k = rng.randrange(len(texts))
                texts[k] = f"{-step.values[k] + Decimal('0.0002'):f}"
            steps.append((step.id, texts))
        out.append(steps)
    return out


class Connection:
    """One student's keep-alive HTTP/1.1 connection, each request sent in one write with
    TCP_NODELAY, as a browser sends it (a request split in two writes would wait on delayed
    acknowledgements and measure the network stack instead of the server)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @staticmethod
    async def open(port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return Connection(reader, writer)

    async def post(self, path: str, payload: object) -> tuple[int, bytes]:
        body = json.dumps(payload).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        length = next(int(h.split(":")[1]) for h in lines if h.lower().startswith("content-length"))
        return int(lines[0].split()[1]), await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def student(
    port: int, paper: list[tuple[str, list[str]]], stop: float, pause: float
) -> tuple[list[float], int]:
    """Submit the paper step by step until `stop`: each request's latency, and the errors."""
    latencies: list[float] = []
    errors = 0
    await asyncio.sleep(random.random() * pause)  # students do not all start at one instant
    connection = await Connection.open(port)
    while time.perf_counter() < stop:
        typed: dict[str, list[str]] = {}
        for step_id, texts in paper:
            if time.perf_counter() >= stop:
                break
            typed[step_id] = texts
            start = time.perf_counter()
            status, body = await connection.post("/api/grade", {"answers": typed})
            latencies.append(time.perf_counter() - start)
            errors += status != 200 or step_id not in json.loads(body)["steps"]
            await asyncio.sleep(pause)
    await connection.close()
    return latencies, errors


async def load(port: int, clients: int, seconds: float, pause: float) -> tuple[list[float], int]:
    stop = time.perf_counter() + seconds
    done = await asyncio.gather(*(student(port, p, stop, pause) for p in papers(clients)))
    return [t for latencies, _ in done for t in latencies], sum(e for _, e in done)


def serve() -> tuple[subprocess.Popen[str], int]:
    """`handcalc serve --port 0` on loopback, and the port of the URL it prints."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "handcalc", "serve", "--host", "127.0.0.1", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    url = proc.stderr.readline().split()[3]
    assert url.startswith(LOOPBACK), url
    return proc, int(url.removeprefix(LOOPBACK).rstrip("/"))


def report(latencies: list[float], errors: int, seconds: float) -> dict[str, Any]:
    ms = sorted(t * 1000 for t in latencies)
    cuts = statistics.quantiles(ms, n=100)
    return {
        "requests": len(ms),
        "per second": round(len(ms) / seconds),
        "errors": errors,
        "median ms": round(statistics.median(ms), 1),
        "p95 ms": round(cuts[94], 1),
        "p99 ms": round(cuts[98], 1),
        "max ms": round(ms[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between two steps")
    args = parser.parse_args()
    proc, port = serve()
    try:
        latencies, errors = asyncio.run(load(port, args.clients, args.seconds, args.pause))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"{args.clients} clients, {args.seconds:g} s, {args.pause:g} s between steps:")
    for name, value in report(latencies, errors, args.seconds).items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
