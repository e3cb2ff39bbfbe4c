#!/bin/sh
# An SMTP catcher on port 1025: every mail becomes a file in the Maildir /mail
# (new/), which the test mounts from its temp folder.
exec /usr/bin/python3 -m aiosmtpd -n -l 0.0.0.0:1025 -c aiosmtpd.handlers.Mailbox /mail
