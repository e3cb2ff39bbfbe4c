"""aiosmtpd Mailboxes for the tests' SMTP sink.

`python3 -m aiosmtpd -c slow_mailbox.SlowMailbox MAILDIR SECONDS [PUBLISH_SECONDS]`
with this folder on PYTHONPATH:

* SECONDS: wait that long before answering the end of DATA, for tests that
  need a mail to be "in hand" (sent, not yet acknowledged) for a while.
* PUBLISH_SECONDS: put the message into the Maildir that long *after* the
  answer. A reader sees a mail some time after the sender's server accepted
  it, never within the instant between the acceptance and the sender's
  commit; calndro commits the mailed token's hash right after that answer,
  and a test that clicked the link in that instant would see an unknown
  token no person ever could.
"""
import asyncio
import os
import signal

from aiosmtpd.handlers import Mailbox


class SlowMailbox(Mailbox):
    def __init__(self, mail_dir, delay_seconds, publish_seconds=0.0):
        super().__init__(mail_dir)
        self.delay_seconds = delay_seconds
        self.publish_seconds = publish_seconds
        self.pending = []
        # Stopping the sink must not lose an accepted message.
        signal.signal(signal.SIGTERM, self._flush_and_exit)

    def _flush_and_exit(self, *_):
        for message in self.pending:
            self.mailbox.add(message)
        os._exit(0)

    def _publish(self, message):
        self.pending.remove(message)
        self.mailbox.add(message)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) not in (2, 3):
            parser.error("SlowMailbox takes MAILDIR, SECONDS and optionally PUBLISH_SECONDS")
        return cls(args[0], float(args[1]), float(args[2]) if len(args) == 3 else 0.0)

    def handle_message(self, message):
        if self.publish_seconds > 0:
            self.pending.append(message)
            asyncio.get_running_loop().call_later(self.publish_seconds, self._publish, message)
        else:
            self.mailbox.add(message)

    async def handle_DATA(self, server, session, envelope):
        if self.delay_seconds > 0:
            await asyncio.sleep(self.delay_seconds)
        return await super().handle_DATA(server, session, envelope)
