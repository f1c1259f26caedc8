"""An SMTP sink for the tests and scripts: aiosmtpd (PyPI) on 127.0.0.1, every accepted message
written raw, as received, to a folder (`<n>.eml`, written whole then renamed, so a reader never
sees half a message), and failures on demand.

Usage: smtp_sink.py --dir DIR [--port 0] [--delay-ms 0] [--rule STAGE:ADDRESS:CODE[:TIMES]]...

A rule answers STAGE (`rcpt` or `data`) for recipient ADDRESS (or `*`, any) with CODE (4xx:
transient, 5xx: permanent), the first TIMES times (omitted: always). `--delay-ms` holds each
message that long after its data arrived before keeping and accepting it. Once ready it prints one
JSON line `{"port": N}` on stdout; each event is logged as a JSON line on stderr. It runs until
stdin closes or it is sent SIGTERM.
"""
import argparse, asyncio, json, os, signal, sys, threading

from aiosmtpd.smtp import SMTP


class Rule:
    def __init__(self, text):
        parts = text.split(":")
        if len(parts) not in (3, 4) or parts[0] not in ("rcpt", "data"):
            raise SystemExit(f"bad rule {text!r}: STAGE:ADDRESS:CODE[:TIMES]")
        self.stage, self.address, self.code = parts[0], parts[1].lower(), int(parts[2])
        self.left = int(parts[3]) if len(parts) == 4 else None

    def take(self, stage, address):
        """The SMTP answer when this rule applies to `stage` for `address` (and counts it)."""
        if stage != self.stage or self.address not in ("*", address.lower()):
            return None
        if self.left is not None:
            if self.left <= 0:
                return None
            self.left -= 1
        kind = "transient" if self.code < 500 else "permanent"
        return f"{self.code} {'4' if self.code < 500 else '5'}.0.0 sink: {kind} failure for {address}"


def log(**event):
    print(json.dumps(event), file=sys.stderr, flush=True)


class Handler:
    def __init__(self, folder, rules, delay):
        self.folder, self.rules, self.delay, self.count = folder, rules, delay, 0

    def answer(self, stage, address):
        for rule in self.rules:
            reply = rule.take(stage, address)
            if reply:
                log(event=stage, to=address, reply=reply)
                return reply
        return None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.answer("rcpt", address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            reply = self.answer("data", address)
            if reply:
                return reply
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        path = os.path.join(self.folder, f"{self.count:06d}.eml")
        with open(path + ".part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".part", path)
        log(event="data", to=envelope.rcpt_tos, file=os.path.basename(path))
        return "250 OK: queued"


async def serve(args):
    os.makedirs(args.dir, exist_ok=True)
    handler = Handler(args.dir, [Rule(r) for r in args.rule], args.delay_ms / 1000)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", decode_data=False, enable_SMTPUTF8=True,
                     data_size_limit=10 * 1024 * 1024),
        "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    if not args.keep_stdin:
        # Stops when the parent goes away (the test's process ends, stdin closes).
        threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop.set)),
                         daemon=True).start()
    await stop.wait()
    server.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--rule", action="append", default=[])
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--keep-stdin", action="store_true",
                    help="do not stop when stdin closes (run in the background)")
    asyncio.run(serve(ap.parse_args()))


if __name__ == "__main__":
    main()
