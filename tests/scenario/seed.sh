#!/usr/bin/env bash
# The user's seed scenario (../shared/seed-scenario.txt), literally, with
# httpie and jq against a running stack: the proposer creates and notifies,
# a party reads the token from the delivered mail and views, narrows and
# notifies with it, then the log is read. After the seed's own steps: every
# party answers each remaining slot (yes / if need be / no: two by their mailed
# tokens, the proposer as a registered party), the tally and best_slot are
# checked, and the proposer agrees on best_slot with the link the party's
# notify mailed them. It runs twice: once with the token as the body field
# `et=KEY` (as the seed writes it), once as `?et=KEY`.
#
# Needs a stack started by deploy/run-local.sh:
#   CALNDRO_STATE_DIR  its state folder (demo-user credentials, mail/)
#   CALNDRO_HTTP_PORT  its gateway port (9000)
#   CALNDRO_MAILDIR    the Maildir to read (default $CALNDRO_STATE_DIR/mail)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${CALNDRO_STATE_DIR:-$ROOT/.calndro}
PORT=${CALNDRO_HTTP_PORT:-9000}
MAILDIR=${CALNDRO_MAILDIR:-$STATE/mail}
user=$(sed -n 's/^user=//p' "$STATE/demo-user")
pwd=$(sed -n 's/^password=//p' "$STATE/demo-user")
[ -n "$user" ] && [ -n "$pwd" ] || { echo "seed: no demo user in $STATE/demo-user" >&2; exit 1; }

# shellcheck source=../lib/check.sh
source "$ROOT/tests/lib/check.sh"
LAST_BODY=""
# step EXPECTED DESCRIPTION http-args...: runs httpie, checks the status.
step() {
  local expected=$1 what=$2
  shift 2
  local out status
  out=$(http --ignore-stdin --pretty=none --print=hb "$@" 2>&1) || true
  # No `printf | head` under pipefail: head may close the pipe before printf
  # has written everything, and the SIGPIPE would end the script silently.
  local first_line=${out%%$'\n'*}
  read -r _ status _ <<<"$first_line" || true
  LAST_BODY=$(printf '%s\n' "$out" | awk 'body {print} /^\r?$/ {body=1}')
  if [ "$status" = "$expected" ]; then
    ok "$status $what"
  else
    ko "$what: expected $expected, got ${status:-nothing}"
    head -n 30 <<<"$out" >&2
  fi
}

# Waits for the mail to RECIPIENT about event ID and prints its token.
token_from_mail() {
  local recipient=$1 id=$2
  /usr/bin/python3 - "$MAILDIR" "$recipient" "$id" <<'PY'
import email, email.policy, os, re, sys, time
maildir, recipient, event_id = sys.argv[1], sys.argv[2].lower(), sys.argv[3]
pattern = re.compile(r"/%s/\?et=([0-9a-f]{40})" % re.escape(event_id))
deadline = time.time() + 30
while time.time() < deadline:
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            if recipient not in str(msg.get("To", "")).lower():
                continue
            part = msg.get_body(preferencelist=("plain", "html"))
            text = part.get_content() if part is not None else ""
            m = pattern.search(text)
            if m:
                print(m.group(1))
                sys.exit(0)
    time.sleep(0.2)
sys.exit("no mail to %s about event %s in %s" % (recipient, event_id, maildir))
PY
}

run_once() {
  local mode=$1  # body | query
  echo "seed scenario, token as $([ "$mode" = body ] && echo 'body field et=KEY' || echo 'query ?et=KEY'):"
  # The slots the proposer offers (in three spellings of time and duration),
  # and the two of them a party keeps.
  local proposed='[{"begin": "2030-11-01T01:11:22.02", "duration": "00:10"},
                   {"begin": "2030-11-02T14:34+02:00", "duration": "01:00"},
                   {"begin": "2030-11-03T09:00:00Z", "duration": "PT1H30M"}]'
  local narrowed='[{"begin": "2030-11-01T01:11:22.02", "duration": "00:10"},
                   {"begin": "2030-11-02T14:34+02:00", "duration": "01:00"}]'

  # you: instantiate a coordination proposal
  step 201 "you: POST / (create)" -a "$user:$pwd" POST ":$PORT/" \
    parties:='["you@here.net", "they@thar.net", "them@whar.net"]' \
    slots:="$proposed"
  local evt_id
  evt_id=$(printf '%s' "$LAST_BODY" | jq .id)
  if ! [[ "$evt_id" =~ ^[0-9]+$ ]]; then
    ko "no event id in: $LAST_BODY"
    return
  fi
  echo "       event $evt_id"

  # you: notify other parties
  step 202 "you: POST /$evt_id/notify/" -a "$user:$pwd" POST ":$PORT/$evt_id/notify/" \
    parties:='["they@thar.net", "them@whar.net"]' \
    slots:="$proposed"

  # they: receive a message including a link with a temporary access token
  local key
  if ! key=$(token_from_mail they@thar.net "$evt_id"); then
    ko "no token mailed to they@thar.net"
    return
  fi
  echo "       token from the mail: ${key:0:6}..."
  local -a tok=() q=""
  if [ "$mode" = body ]; then tok=("et=$key"); else q="?et=$key"; fi

  # they: view proposed event times
  step 200 "they: GET /$evt_id/" GET ":$PORT/$evt_id/$q" "${tok[@]}"

  # they: update with suitable selection
  step 202 "they: PATCH /$evt_id/ (narrow)" PATCH ":$PORT/$evt_id/$q" \
    slots:="$narrowed" \
    "${tok[@]}"

  # they: notify other parties
  step 202 "they: POST /$evt_id/notify/" POST ":$PORT/$evt_id/notify/$q" \
    parties:='["you@here.net", "them@whar.net"]' \
    slots:="$narrowed" \
    "${tok[@]}"

  # later: everyone views logs of the process
  step 200 "they: GET /$evt_id/log/" GET ":$PORT/$evt_id/log/$q" "${tok[@]}"
  local log=$LAST_BODY
  local updates notifies views token_entries
  updates=$(printf '%s' "$log" | jq '[.entries[] | select(.occurrence == "UPDATE")] | length' 2>/dev/null || echo 0)
  notifies=$(printf '%s' "$log" | jq '[.entries[] | select(.occurrence == "NOTIFY")] | length' 2>/dev/null || echo 0)
  views=$(printf '%s' "$log" | jq '[.entries[] | select(.occurrence == "VIEW")] | length' 2>/dev/null || echo 0)
  token_entries=$(printf '%s' "$log" | jq '[.entries[] | select(.data.token != null)] | length' 2>/dev/null || echo 0)
  if [ "$updates" -ge 2 ] && [ "$notifies" -eq 4 ] && [ "$views" -ge 1 ] && [ "$token_entries" -ge 4 ]; then
    ok "log: $updates UPDATE, $notifies NOTIFY, $views VIEW, $token_entries by token"
  else
    ko "log: $updates UPDATE (>=2), $notifies NOTIFY (4), $views VIEW (>=1), $token_entries by token (>=4)"
    head -c 3000 <<<"$log" >&2
  fi
  if grep -qF -- "$key" <<<"$log"; then
    ko "the raw token appears in the log"
  fi

  answer_slots "$evt_id" "$key" "$mode"
  local best=$BEST_SLOT
  # you: agree on a time, with the link that their notify mailed you (the
  # creator's own email token); they may not agree (only the creator or staff)
  local agreed_slot=${best:-'{"begin": "2030-11-02T14:34+02:00", "duration": "01:00"}'}
  step 403 "they: POST /$evt_id/agree/ (not the creator)" POST ":$PORT/$evt_id/agree/$q" \
    slot:="$agreed_slot" "${tok[@]}"
  local mine
  if ! mine=$(token_from_mail you@here.net "$evt_id"); then
    ko "no token mailed to you@here.net"
    return
  fi
  local -a my_tok=() my_q=""
  if [ "$mode" = body ]; then my_tok=("et=$mine"); else my_q="?et=$mine"; fi
  step 200 "you: POST /$evt_id/agree/ best_slot (by your mailed token)" POST ":$PORT/$evt_id/agree/$my_q" \
    slot:="$agreed_slot" "${my_tok[@]}"
  local state agreed_begin
  state=$(printf '%s' "$LAST_BODY" | jq -r .state 2>/dev/null || echo none)
  agreed_begin=$(printf '%s' "$LAST_BODY" | jq -r .agreed_slot.begin 2>/dev/null || echo none)
  if [ "$state" = agreed ] && [ "$agreed_begin" = "2030-11-02T12:34:00Z" ]; then
    ok "state agreed on $agreed_begin"
  else
    ko "after agree: state $state (agreed), agreed_slot.begin $agreed_begin (2030-11-02T12:34:00Z)"
  fi

  # The proposer reads the same log with credentials: the agreement is in it.
  step 200 "you: GET /$evt_id/log/" -a "$user:$pwd" GET ":$PORT/$evt_id/log/"
  local agrees
  agrees=$(printf '%s' "$LAST_BODY" |
    jq '[.entries[] | select(.occurrence == "AGREE" and .effector == "you@here.net" and .data.token != null
         and .data.slot.begin == "2030-11-02T12:34:00Z")] | length' 2>/dev/null || echo 0)
  if [ "$agrees" -eq 1 ]; then
    ok "log: one AGREE entry by you@here.net with your token's fingerprint"
  else
    ko "log: $agrees AGREE entries by you@here.net (1)"
  fi
  local answered
  answered=$(printf '%s' "$LAST_BODY" |
    jq -c '[.entries[] | select(.occurrence == "ANSWER") | .effector] | sort' 2>/dev/null || echo none)
  if [ "$answered" = '["them@whar.net","they@thar.net","you@here.net"]' ]; then
    ok "log: one ANSWER entry per party"
  else
    ko "log: ANSWER entries by $answered (one per party)"
  fi
}

# Every party answers the two slots left after the narrowing: they and them
# with the tokens from their mails (MODE: as body field or query, like the
# seed's steps), you with the demo user's password. The slots are spelled as
# the seed spells them, not as the service prints them: compared as instants.
# Sets BEST_SLOT to the event's best_slot (JSON) when the tally is as expected.
answer_slots() {
  local evt_id=$1 key=$2 mode=$3
  BEST_SLOT=""
  local first='{"begin": "2030-11-01T01:11:22.02", "duration": "00:10"}'
  local second='{"begin": "2030-11-02T14:34+02:00", "duration": "01:00"}'
  local -a tok=() q=""
  if [ "$mode" = body ]; then tok=("et=$key"); else q="?et=$key"; fi
  step 200 "they: PUT /$evt_id/answers/ (if need be, yes)" PUT ":$PORT/$evt_id/answers/$q" \
    answers:="[{\"slot\": $first, \"answer\": \"maybe\"}, {\"slot\": $second, \"answer\": \"yes\"}]" \
    "${tok[@]}"

  local theirs
  if ! theirs=$(token_from_mail them@whar.net "$evt_id"); then
    ko "no token mailed to them@whar.net"
    return
  fi
  local -a their_tok=() their_q=""
  if [ "$mode" = body ]; then their_tok=("et=$theirs"); else their_q="?et=$theirs"; fi
  step 200 "them: PUT /$evt_id/answers/ (no, yes)" PUT ":$PORT/$evt_id/answers/$their_q" \
    answers:="[{\"slot\": $first, \"answer\": \"no\"}, {\"slot\": $second, \"answer\": \"yes\"}]" \
    "${their_tok[@]}"

  step 200 "you: PUT /$evt_id/answers/ (yes, if need be)" -a "$user:$pwd" PUT ":$PORT/$evt_id/answers/" \
    answers:="[{\"slot\": $first, \"answer\": \"yes\"}, {\"slot\": $second, \"answer\": \"maybe\"}]"

  # [yes, maybe, no, pending] per slot, in slot order, over the three parties.
  local counts best_begin
  counts=$(printf '%s' "$LAST_BODY" | jq -c '[.tally[] | [.yes, .maybe, .no, .pending]]' 2>/dev/null || echo none)
  best_begin=$(printf '%s' "$LAST_BODY" | jq -r '.best_slot.begin' 2>/dev/null || echo none)
  if [ "$counts" = '[[1,1,1,0],[2,1,0,0]]' ] && [ "$best_begin" = "2030-11-02T12:34:00Z" ]; then
    ok "tally $counts, best_slot $best_begin"
    BEST_SLOT=$(printf '%s' "$LAST_BODY" | jq -c .best_slot)
  else
    ko "tally $counts ([[1,1,1,0],[2,1,0,0]]), best_slot.begin $best_begin (2030-11-02T12:34:00Z)"
    head -c 2000 <<<"$LAST_BODY" >&2
  fi
}

run_once body
run_once query

summary
