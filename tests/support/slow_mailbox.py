"""An aiosmtpd Mailbox that waits before it answers the end of DATA.

For tests that need a mail to be "in hand" (sent, not yet acknowledged) for
a while: `python3 -m aiosmtpd -c slow_mailbox.SlowMailbox MAILDIR SECONDS`,
with this folder on PYTHONPATH.
"""
import asyncio

from aiosmtpd.handlers import Mailbox


class SlowMailbox(Mailbox):
    def __init__(self, mail_dir, delay_seconds):
        super().__init__(mail_dir)
        self.delay_seconds = delay_seconds

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 2:
            parser.error("SlowMailbox takes MAILDIR and SECONDS")
        return cls(args[0], float(args[1]))

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay_seconds)
        return await super().handle_DATA(server, session, envelope)
