"""aiosmtpd's command line, reporting the port it listens on.

`python3 smtp_sink.py ARGS...` takes the arguments of `python3 -m aiosmtpd`;
once listening it prints {"msg": "listening", "port": N} on a line of its
own. With `-l 127.0.0.1:0` the kernel chooses a free port and the test
harness reads it from that line (tests/support/mail.cc), so no test has to
guess a port that something else may take first.
"""
import asyncio
import json
import sys

from aiosmtpd.main import main


def reporting_loop():
    loop = asyncio.new_event_loop()
    create_server = loop.create_server

    async def create_and_report(*args, **kwargs):
        server = await create_server(*args, **kwargs)
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"msg": "listening", "port": port}), flush=True)
        return server

    loop.create_server = create_and_report
    return loop


if __name__ == "__main__":
    # aiosmtpd's main() serves on asyncio.get_event_loop(): this one.
    asyncio.set_event_loop(reporting_loop())
    main(sys.argv[1:])
