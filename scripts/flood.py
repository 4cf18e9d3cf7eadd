#!/usr/bin/env python3
"""Raw-socket floods against a running passport-server (scripts/flood-figures.sh).

  flood.py slow  --port P [--source 127.0.0.3] [--conns 1100] [--seconds 30]
      Holds CONNS connections from one source address, each sending a request
      head and then one body byte every --interval seconds (never the whole
      body); a slot whose connection the server closes reconnects after
      --reconnect seconds, as an attacker would. Prints one JSON line: how
      many connections the server kept open (sampled each second), and how
      the others ended (429 at once, 408 at the body deadline, closed).

  flood.py burst --port P [--conns 5000] [--sources 100]
      Opens CONNS connections at once, spread over SOURCES loopback addresses
      (127.0.1.1, 127.0.1.2, ...), each asking for one captcha image; prints
      one JSON line of the statuses.
"""

import argparse
import asyncio
import json
import time
import uuid

HEAD = (
    b"POST /passport/sms_code HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
)


async def slow_slot(args, stats, stop):
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", args.port, local_addr=(args.source, 0)
            )
        except OSError:
            stats["connect_failed"] += 1
            await asyncio.sleep(args.reconnect)
            continue
        opened = time.monotonic()
        stats["open"] += 1
        answer = b""
        try:
            writer.write(HEAD)
            await writer.drain()

            async def trickle():
                while True:
                    await asyncio.sleep(args.interval)
                    writer.write(b" ")
                    await writer.drain()

            trickler = asyncio.ensure_future(trickle())
            reading = asyncio.ensure_future(reader.read(4096))
            stopping = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait(
                {trickler, reading, stopping}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in (trickler, reading, stopping):
                if task not in done:
                    task.cancel()
            if reading in done and not reading.cancelled() and reading.exception() is None:
                answer = reading.result()
        except OSError:
            pass
        finally:
            stats["open"] -= 1
            writer.close()
        if stop.is_set():
            return
        held = time.monotonic() - opened
        if answer.startswith(b"HTTP/1.1 429"):
            stats["refused_429"] += 1
        elif answer.startswith(b"HTTP/1.1 408"):
            stats["timed_out_408"] += 1
        else:
            stats["closed_other"] += 1
        stats["held_secs_max"] = max(stats["held_secs_max"], round(held, 2))
        await asyncio.sleep(args.reconnect)


async def slow(args):
    stats = dict(open=0, refused_429=0, timed_out_408=0, closed_other=0,
                 connect_failed=0, held_secs_max=0.0)
    stop = asyncio.Event()
    slots = [asyncio.ensure_future(slow_slot(args, stats, stop)) for _ in range(args.conns)]
    samples = []
    for _ in range(int(args.seconds)):
        await asyncio.sleep(1)
        samples.append(stats["open"])
    stop.set()
    await asyncio.gather(*slots, return_exceptions=True)
    # The first seconds are the ramp-up; the rest is the steady state.
    steady = samples[3:] or samples
    print(json.dumps(dict(
        mode="slow", source=args.source, slots=args.conns, seconds=args.seconds,
        open_min=min(steady), open_max=max(steady),
        **{k: v for k, v in stats.items() if k != "open"},
    )), flush=True)


async def one_captcha(port, source, statuses):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    except OSError:
        statuses["connect_failed"] = statuses.get("connect_failed", 0) + 1
        return
    writer.write(
        f"GET /passport/image_code?code_id={uuid.uuid4()} HTTP/1.1\r\n"
        "Host: x\r\nConnection: close\r\n\r\n".encode()
    )
    try:
        await writer.drain()
        answer = await reader.read()
        status = answer[9:12].decode() if answer.startswith(b"HTTP/1.1 ") else "none"
    except OSError:
        status = "reset"
    writer.close()
    statuses[status] = statuses.get(status, 0) + 1


async def burst(args):
    statuses = {}
    started = time.monotonic()
    await asyncio.gather(*(
        one_captcha(args.port, f"127.0.1.{1 + n % args.sources}", statuses)
        for n in range(args.conns)
    ))
    print(json.dumps(dict(mode="burst", conns=args.conns, sources=args.sources,
                          seconds=round(time.monotonic() - started, 2), statuses=statuses)),
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["slow", "burst"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--source", default="127.0.0.3")
    parser.add_argument("--conns", type=int)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=2)
    parser.add_argument("--reconnect", type=float, default=1)
    parser.add_argument("--sources", type=int, default=100)
    args = parser.parse_args()
    if args.mode == "slow":
        args.conns = args.conns or 1100
        asyncio.run(slow(args))
    else:
        args.conns = args.conns or 5000
        asyncio.run(burst(args))


if __name__ == "__main__":
    main()
