#!/usr/bin/python3
"""Reads a mail (--mail) or an iCalendar document (--ics) from a file and prints
what tests check as JSON, parsed by Python's `email` package and Debian's
python3-icalendar: an independent reader of what calndro writes.

  calendar_summary.py --mail FILE  ->  {"content_type", "subject": str (decoded),
      "parts": [...], "text_transfer_encoding": str, "text": str,
      "calendar_content_type": str, "calendar": CAL | null}
  calendar_summary.py --ics FILE   ->  CAL
  CAL = {"method", "version", "prodid", "crlf_only", "max_line_octets",
         "events": [{"uid", "sequence", "dtstamp", "dtstart", "dtend", "summary",
                     "status", "url", "description", "organizer",
                     "attendees": [{"email", "partstat", "rsvp", "role"}]}]}
Times are UTC, "YYYY-MM-DDTHH:MM:SSZ"; a time that is not UTC is an error.
"""
import datetime
import email
import email.policy
import json
import sys

import icalendar


def utc_text(prop):
    if prop is None:
        return None
    value = prop.dt
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        raise SystemExit(f"not a UTC date-time: {prop.to_ical()!r}")
    if value.utcoffset() != datetime.timedelta(0):
        raise SystemExit(f"not UTC: {prop.to_ical()!r}")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def address(value):
    text = str(value)
    return text[len("mailto:"):] if text.lower().startswith("mailto:") else text


def attendee(value):
    params = value.params
    return {"email": address(value), "partstat": params.get("PARTSTAT"), "rsvp": params.get("RSVP"),
            "role": params.get("ROLE")}


def summarize_calendar(raw):
    lines = raw.split(b"\r\n")
    summary = {
        "crlf_only": raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""),
        "max_line_octets": max(len(line) for line in lines),
    }
    calendar = icalendar.Calendar.from_ical(raw)
    summary["method"] = str(calendar.get("METHOD")) if calendar.get("METHOD") else None
    summary["version"] = str(calendar.get("VERSION")) if calendar.get("VERSION") else None
    summary["prodid"] = str(calendar.get("PRODID")) if calendar.get("PRODID") else None
    events = []
    for vevent in calendar.walk("VEVENT"):
        attendees = vevent.get("ATTENDEE", [])
        if not isinstance(attendees, list):
            attendees = [attendees]
        events.append({
            "uid": str(vevent.get("UID")),
            "sequence": int(vevent.get("SEQUENCE", 0)),
            "dtstamp": utc_text(vevent.get("DTSTAMP")),
            "dtstart": utc_text(vevent.get("DTSTART")),
            "dtend": utc_text(vevent.get("DTEND")),
            "summary": str(vevent.get("SUMMARY")) if vevent.get("SUMMARY") is not None else None,
            "status": str(vevent.get("STATUS")) if vevent.get("STATUS") is not None else None,
            "url": str(vevent.get("URL")) if vevent.get("URL") is not None else None,
            "description": str(vevent.get("DESCRIPTION")) if vevent.get("DESCRIPTION") is not None else None,
            "organizer": address(vevent.get("ORGANIZER")) if vevent.get("ORGANIZER") is not None else None,
            "attendees": [attendee(a) for a in attendees],
        })
    summary["events"] = events
    return summary


def summarize_mail(raw):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    summary = {"content_type": message.get_content_type(), "subject": str(message.get("Subject", "")),
               "parts": [], "text_transfer_encoding": None, "text": None,
               "calendar_content_type": None, "calendar": None}
    for part in message.walk():
        if part.is_multipart():
            continue
        summary["parts"].append(part.get_content_type())
        if part.get_content_type() == "text/plain" and summary["text"] is None:
            summary["text_transfer_encoding"] = str(part.get("Content-Transfer-Encoding", ""))
            summary["text"] = part.get_content()
        elif part.get_content_type() == "text/calendar":
            summary["calendar_content_type"] = str(part["Content-Type"])
            summary["calendar"] = summarize_calendar(part.get_payload(decode=True))
    return summary


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("--mail", "--ics"):
        raise SystemExit(__doc__)
    with open(sys.argv[2], "rb") as f:
        raw = f.read()
    result = summarize_mail(raw) if sys.argv[1] == "--mail" else summarize_calendar(raw)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
