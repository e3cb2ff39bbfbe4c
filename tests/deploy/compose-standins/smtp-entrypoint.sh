#!/bin/sh
# An SMTP catcher on port 1025: every mail becomes a file in the Maildir /mail
# (new/), which the test mounts from its temp folder. Python's Maildir makes
# its subfolders only when /mail itself does not exist; a mount point does.
set -eu
mkdir -p /mail/tmp /mail/new /mail/cur
exec /usr/bin/python3 -m aiosmtpd -n -l 0.0.0.0:1025 -c aiosmtpd.handlers.Mailbox /mail
