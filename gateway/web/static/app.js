// calndro: the page behind the link in the mail. Plain JavaScript, no
// framework. It calls the same REST API as any client, with the email token
// from the link in header X-Email-Token: it holds no rights the token lacks.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  const state = {
    id: null,        // event id from the path
    token: null,     // the email token: kept in memory only
    event: null,     // the event as the API returned it
    version: null,   // its ETag, sent back as If-Match with a change
    me: null,        // the party the token was issued to (from the log), when known
    creator: null,   // who created the event (the log's first entry): who may agree
    checked: new Set(),  // recipients ticked by the viewer
    deadlineTimer: null, // re-renders the answers when respond_by passes
    acting: false,       // one of the viewer's own changes is under way
    stream: null,        // the AbortController of the request following the event's changes
    streamFailures: 0,   // failed tries to follow since the stream was last open
  };

  // ---- the token leaves the address bar at once ----------------------------
  const params = new URLSearchParams(location.search);
  if (params.has('et')) {
    state.token = params.get('et');
    params.delete('et');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  }
  const path = /^\/(\d+)\/(log\/)?$/.exec(location.pathname);
  state.id = path ? path[1] : null;
  const wantsLog = Boolean(path && path[2]);

  // ---- formatting -----------------------------------------------------------
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
  const localDay = new Intl.DateTimeFormat(undefined, {
    weekday: 'short', year: 'numeric', month: 'short', day: 'numeric',
  });
  const localTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const localZone = new Intl.DateTimeFormat(undefined, { hour: '2-digit', timeZoneName: 'short' });
  const utcFull = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC',
  });
  const localFull = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const localDate = new Intl.DateTimeFormat(undefined, {
    weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit',
    timeZoneName: 'short',
  });

  function zoneName(date) {
    const part = localZone.formatToParts(date).find((p) => p.type === 'timeZoneName');
    return part ? part.value : '';
  }

  // "HH:MM:SS[.ffffff]" or "D HH:MM:SS[.ffffff]" (the API's output) -> milliseconds.
  function durationMs(text) {
    const m = /^(?:(\d+) )?(\d+):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(String(text));
    if (!m) {
      return 0;
    }
    const fraction = m[5] ? Number('0.' + m[5]) : 0;
    return ((Number(m[1] || 0) * 24 + Number(m[2])) * 3600 + Number(m[3]) * 60 + Number(m[4]) + fraction) * 1000;
  }

  function durationText(ms) {
    let minutes = Math.round(ms / 60000);
    const days = Math.floor(minutes / 1440);
    minutes -= days * 1440;
    const hours = Math.floor(minutes / 60);
    minutes -= hours * 60;
    const parts = [];
    if (days) parts.push(days + (days === 1 ? ' day' : ' days'));
    if (hours) parts.push(hours + ' h');
    if (minutes) parts.push(minutes + ' min');
    return parts.length ? parts.join(' ') : 'under a minute';
  }

  function describeSlot(slot) {
    const begin = new Date(slot.begin);
    const ms = durationMs(slot.duration);
    const end = new Date(begin.getTime() + ms);
    const sameDay = localDay.format(begin) === localDay.format(end);
    const local = localDay.format(begin) + ', ' + localTime.format(begin) + ' – ' +
      (sameDay ? '' : localDay.format(end) + ', ') + localTime.format(end) + ' ' + zoneName(begin);
    return { local, utc: utcFull.format(begin) + ' UTC', duration: durationText(ms) };
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }

  function orList(items) {
    if (items.length <= 1) return items.join('');
    return items.slice(0, -1).join(', ') + ' or ' + items[items.length - 1];
  }

  // Builds an element; children are strings (as text, never HTML) or nodes.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'class') node.className = value;
      else if (key in node && typeof value !== 'string') node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  // ---- messages ---------------------------------------------------------------
  function say(text) {
    $('status').textContent = text || '';
  }

  function problem(text) {
    const box = $('problem');
    box.textContent = text || '';
    box.hidden = !text;
  }

  function hideEvent() {
    state.event = null;
    $('event').hidden = true;
  }

  function otherParties() {
    const parties = state.event ? state.event.parties : [];
    return parties.filter((p) => p !== state.me);
  }

  class ApiError extends Error {
    constructor(status, body, etag) {
      super('HTTP ' + status);
      this.status = status;
      this.body = body || {};
      this.etag = etag || null;
    }
  }

  // The sentence for a failed call, with what to do. Returns true when the
  // page should reload the event (stale slots).
  function explain(error) {
    const status = error instanceof ApiError ? error.status : 0;
    const body = error instanceof ApiError ? error.body : {};
    if (status === 401 && body.detail === 'Token expired') {
      const when = body.expires ? localDate.format(new Date(body.expires)) : 'an earlier date';
      const others = otherParties();
      const who = others.length ? orList(others) : 'another party of the event';
      hideEvent();
      problem('This link expired on ' + when + '. Ask ' + who + ' to notify you again for a fresh link.');
      return false;
    }
    if (status === 401) {
      hideEvent();
      problem('This link is not valid. Open the link from your latest calndro mail, or ask another party to notify you again.');
      return false;
    }
    if (status === 403 || status === 404) {
      hideEvent();
      problem('This link does not open this event.');
      return false;
    }
    if (status === 409) {
      problem((body.detail || 'The event is not in a state that allows this.') + ' The page now shows it as it is.');
      return true;
    }
    if (status === 400 && Array.isArray(body.slots) && body.slots.includes('Mismatch with event')) {
      problem('Someone changed the slots meanwhile; the page now shows the current ones — check and try again.');
      return true;
    }
    if (status === 503 || status === 504 || status === 0) {
      problem('The service is unavailable right now; try again in a minute.');
      return false;
    }
    if (status === 400 || status === 413) {
      const reasons = [];
      for (const [field, messages] of Object.entries(body)) {
        reasons.push(field === 'detail' ? String(messages) : field + ': ' + [].concat(messages).join(' '));
      }
      problem('The service refused this change' + (reasons.length ? ' (' + reasons.join('; ') + ')' : '') +
        '. Reload the page and try again.');
      return false;
    }
    problem('Something went wrong on the server (HTTP ' + status + '). Try again in a minute.');
    return false;
  }

  // ---- the REST API -----------------------------------------------------------
  // Every call carries the token in header X-Email-Token, never in its URL
  // (addresses end up in histories, logs and download records).
  async function send(method, url, body, extraHeaders) {
    const headers = { 'Accept': 'application/json', 'X-Email-Token': state.token, ...(extraHeaders || {}) };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      throw new ApiError(0, null);
    }
    if (!response.ok) {
      throw new ApiError(response.status, parseJson(await response.text()), response.headers.get('ETag'));
    }
    return response;
  }

  function parseJson(text) {
    try {
      return text ? JSON.parse(text) : null;
    } catch (e) {
      return null;
    }
  }

  async function api(method, url, body, extraHeaders) {
    const response = await send(method, url, body, extraHeaders);
    return { data: parseJson(await response.text()), response };
  }

  // The next page of the log from `Link: <URL>; rel="next"`, as a same-origin path.
  function nextLink(response) {
    const header = response.headers.get('Link') || '';
    const m = /<([^>]+)>\s*;\s*rel="next"/.exec(header);
    if (!m) return null;
    const url = new URL(m[1], location.href);
    return url.pathname + url.search;
  }

  async function fetchLog() {
    let url = '/' + state.id + '/log/?limit=1000';
    const entries = [];
    for (let page = 0; url && page < 50; page += 1) {
      const { data, response } = await api('GET', url);
      entries.push(...(data.entries || []));
      url = nextLink(response);
    }
    return entries;
  }

  // ---- answers ----------------------------------------------------------------
  // The API's answer values and the words the page uses for them; the mark
  // beside each word is for readers who cannot tell the colours apart.
  const ANSWERS = [
    { value: 'yes', label: 'yes', mark: '✓' },
    { value: 'maybe', label: 'if need be', mark: '~' },
    { value: 'no', label: 'no', mark: '✗' },
  ];
  const PENDING = { value: 'pending', label: 'pending', mark: '?' };

  function answerInfo(value) {
    return ANSWERS.find((option) => option.value === value) || PENDING;
  }

  // What `party` answered for `slot`: 'yes', 'maybe', 'no' or 'pending'.
  function answerOf(party, slot) {
    const rows = (state.event.answers || {})[party] || [];
    const row = rows.find((given) => sameSlot(given.slot, slot));
    return row ? row.answer : 'pending';
  }

  function tallyOf(slot) {
    return (state.event.tally || []).find((row) => sameSlot(row.slot, slot)) ||
      { yes: 0, maybe: 0, no: 0, pending: state.event.parties.length };
  }

  function bestIndex() {
    return state.event.best_slot ? state.event.slots.findIndex((slot) => sameSlot(slot, state.event.best_slot)) : -1;
  }

  function deadlinePassed() {
    const by = state.event.respond_by;
    return Boolean(by) && Date.now() >= new Date(by).getTime();
  }

  // With hide_answers the service shows a party only their own row; the
  // creator (and staff) see them all.
  function answersHiddenFromMe() {
    return Boolean(state.event.hide_answers) && !mayAgree();
  }

  // Why the viewer cannot answer now, or '' when they can. The service
  // decides (409 past the deadline or while agreed); the page only avoids
  // offering buttons that would be refused.
  function answerBlock() {
    const event = state.event;
    if (!state.me || !event.parties.includes(state.me)) {
      return 'The page cannot tell which party this link belongs to, so it cannot answer for you.';
    }
    if (event.state === 'agreed') {
      return 'The time is agreed: answers are closed unless the creator reopens the event.';
    }
    if (deadlinePassed() && !mayAgree()) {
      return 'The deadline has passed: your answers stay as they are.';
    }
    return '';
  }

  // A column heading: the slot's day and time in the viewer's zone, and the
  // "Best" label (a word, not only a colour) on the best slot.
  function slotHeading(slot, best) {
    const text = describeSlot(slot);
    const begin = new Date(slot.begin);
    return el('th', { scope: 'col', class: best ? 'slot-col best-col' : 'slot-col', title: text.local + ' (' + text.utc + ')' },
      el('span', { class: 'day' }, localDay.format(begin)),
      el('span', { class: 'time' }, localTime.format(begin) + ', ' + text.duration),
      best ? el('span', { class: 'best-label' }, '★ Best') : null);
  }

  function answerCell(value, best) {
    const info = answerInfo(value);
    return el('td', { class: 'answer ans-' + info.value + (best ? ' best-col' : '') },
      el('span', { class: 'mark', 'aria-hidden': 'true' }, info.mark), ' ' + info.label);
  }

  // The viewer's own cell: one button per answer; the pressed one is the
  // current answer, and pressing it again takes the answer back (pending).
  function choiceCell(slot, index, best) {
    const current = answerOf(state.me, slot);
    const group = el('div', { class: 'choices', role: 'group', 'aria-label': 'Your answer for ' + describeSlot(slot).local });
    for (const option of ANSWERS) {
      const pressed = current === option.value;
      const button = el('button', {
        type: 'button', class: 'choice ans-' + option.value, 'aria-pressed': String(pressed),
        'data-slot': String(index), 'data-answer': option.value,
      }, option.label);
      button.addEventListener('click', () => act(button, () => answer(index, pressed ? 'pending' : option.value)));
      group.append(button);
    }
    return el('td', { class: 'answer mine' + (best ? ' best-col' : '') }, group);
  }

  function tallyCell(slot, best) {
    const row = tallyOf(slot);
    return el('td', { class: 'tally-cell' + (best ? ' best-col' : '') },
      el('span', { class: 'ans-yes' }, row.yes + ' yes'),
      el('span', { class: 'ans-maybe' }, row.maybe + ' if need be'),
      el('span', { class: 'ans-no' }, row.no + ' no'),
      el('span', { class: 'ans-pending' }, row.pending + ' pending'));
  }

  function partyRow(party, best, mayAnswer) {
    const mine = party === state.me;
    const row = el('tr', { class: mine ? 'mine' : '' },
      el('th', { scope: 'row' }, party, mine ? el('span', { class: 'you' }, ' (you)') : null));
    state.event.slots.forEach((slot, index) => {
      row.append(mine && mayAnswer ? choiceCell(slot, index, index === best) : answerCell(answerOf(party, slot), index === best));
    });
    return row;
  }

  function renderGrid(best, mayAnswer) {
    const event = state.event;
    const head = $('grid-head');
    head.replaceChildren(el('th', { scope: 'col' }, 'Party'));
    event.slots.forEach((slot, index) => head.append(slotHeading(slot, index === best)));
    const parties = answersHiddenFromMe() ? event.parties.filter((p) => p === state.me) : event.parties;
    $('grid-body').replaceChildren(...parties.map((party) => partyRow(party, best, mayAnswer)));
    const tally = $('grid-tally');
    tally.replaceChildren(el('th', { scope: 'row' }, 'Tally'));
    event.slots.forEach((slot, index) => tally.append(tallyCell(slot, index === best)));
  }

  function renderDeadline() {
    const line = $('deadline');
    const by = state.event.respond_by;
    clearTimeout(state.deadlineTimer);
    // Once agreed, answers are closed whatever the deadline (the hint says so).
    line.hidden = !by || state.event.state === 'agreed';
    if (line.hidden) {
      return;
    }
    const when = localDate.format(new Date(by));
    const passed = deadlinePassed();
    line.classList.toggle('closed', passed);
    if (!passed) {
      line.textContent = 'Answer by ' + when + '.';
      // The buttons go when the deadline passes, without a reload (timers
      // beyond about 24 days overflow; a page is not left open that long).
      const left = new Date(by).getTime() - Date.now();
      if (left < 2 ** 31 - 1000) {
        state.deadlineTimer = setTimeout(() => state.event && renderAnswers(), left + 500);
      }
    } else if (mayAgree()) {
      line.textContent = 'Answers closed for the others on ' + when + '; as the creator you can still change yours.';
    } else {
      line.textContent = 'Answers closed on ' + when + '.';
    }
  }

  function renderBest(best) {
    const event = state.event;
    const button = $('agree-best');
    if (best < 0) {
      $('best-text').textContent = 'No best slot yet: nobody has answered yes or if need be.';
      button.hidden = true;
      return;
    }
    const slot = event.slots[best];
    const row = tallyOf(slot);
    $('best-text').replaceChildren('Best slot so far: ', el('strong', {}, describeSlot(slot).local),
      ' (' + row.yes + ' yes, ' + row.maybe + ' if need be).');
    button.hidden = !(mayAgree() && event.state !== 'agreed');
  }

  function renderAnswers() {
    const event = state.event;
    const best = bestIndex();
    const block = answerBlock();
    const hasSlots = event.slots.length > 0;
    $('answer-hint').textContent = !hasSlots ? 'There are no time slots to answer.'
      : block || 'Your row has a button for each answer: press yes, if need be or no under each slot; ' +
        'press a pressed button again to take that answer back. Each press is saved at once.';
    const privacy = $('answers-private');
    privacy.hidden = !event.hide_answers;
    privacy.textContent = mayAgree()
      ? 'You keep the answers private: only you see every row; the other parties see their own row and the tally.'
      : 'The creator keeps the answers private: you see only your own row, and the tally of everyone’s answers.';
    renderDeadline();
    $('grid-wrap').hidden = !hasSlots;
    $('best').hidden = !hasSlots;
    if (hasSlots) {
      renderGrid(best, !block);
      renderBest(best);
    }
  }

  // ---- rendering --------------------------------------------------------------
  // The creator agrees and reopens (staff too, but not through this page).
  function mayAgree() {
    return Boolean(state.me && state.creator && state.me === state.creator);
  }

  function sameSlot(a, b) {
    return Boolean(a && b) && new Date(a.begin).getTime() === new Date(b.begin).getTime() &&
      durationMs(a.duration) === durationMs(b.duration);
  }

  // The name the server gives the calendar file (Content-Disposition), kept
  // to safe characters; calndro-ID.ics when it gives none.
  function calendarFileName(response) {
    const header = response.headers.get('Content-Disposition') || '';
    const m = /filename="?([^";]+)"?/i.exec(header);
    const name = m ? m[1].replace(/[^A-Za-z0-9._-]/g, '_') : '';
    return /\.ics$/i.test(name) ? name : 'calndro-' + state.id + '.ics';
  }

  // The calendar file, fetched with the token in its header and saved from
  // memory: no address carries the token, so none lands in the browser's
  // history or its record of downloads.
  async function downloadCalendar() {
    const path = new URL(state.event.ics_url || ('/' + state.id + '/event.ics'), location.href).pathname;
    const response = await send('GET', path, undefined, { 'Accept': 'text/calendar' });
    const blob = await response.blob();
    const url = URL.createObjectURL(new Blob([blob], { type: 'text/calendar' }));
    const link = el('a', { href: url, download: calendarFileName(response), hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    say('The calendar file is downloaded; open it to add the event to your calendar.');
  }

  function renderAgreed() {
    const event = state.event;
    const agreed = event.state === 'agreed' && event.agreed_slot;
    $('agreed').hidden = !agreed;
    $('ics-open').hidden = Boolean(agreed);
    $('reopen').hidden = !(agreed && mayAgree());
    if (agreed) {
      const text = describeSlot(event.agreed_slot);
      $('agreed-local').textContent = text.local;
      $('agreed-utc').textContent = text.utc;
      $('agreed-dur').textContent = text.duration;
    }
    $('save').hidden = Boolean(agreed);
    $('narrow-hint').textContent = agreed ? 'The time is agreed: reopen the event to change its slots.'
      : 'Untick the slots that do not suit you, then save.';
    const hint = $('agree-hint');
    hint.hidden = mayAgree() || !state.creator;
    hint.textContent = 'Only the creator of the event (' + (state.creator || '') + ') can agree on a time.';
  }

  // A slot's row: its checkbox, and for the creator a button to agree on it.
  function slotItem(slot, index, agreed) {
    const text = describeSlot(slot);
    const chosen = sameSlot(slot, agreed);
    const box = el('input', { type: 'checkbox', checked: true, disabled: Boolean(agreed), 'data-index': String(index) });
    const row = el('div', { class: 'slot-row' },
      el('label', {}, box,
        el('span', { class: 'when' },
          el('span', { class: 'local' }, text.local),
          el('span', { class: 'utc' }, text.utc),
          el('span', { class: 'dur' }, text.duration))));
    if (!chosen && sameSlot(slot, state.event.best_slot)) {
      row.append(el('span', { class: 'badge best' }, 'Best so far'));
    }
    if (chosen) {
      row.append(el('span', { class: 'badge' }, 'Agreed'));
    } else if (mayAgree()) {
      const button = el('button', { type: 'button', class: 'agree secondary', 'data-index': String(index) },
        agreed ? 'Agree on this slot instead' : 'Agree on this slot');
      button.addEventListener('click', () => act(button, () => agree(slot)));
      row.append(button);
    }
    const item = el('li', { class: chosen ? 'slot chosen' : 'slot' }, row);
    box.addEventListener('change', () => item.classList.toggle('dropped', !box.checked));
    return item;
  }

  function renderEvent() {
    const event = state.event;
    document.title = 'calndro: ' + event.title;
    $('title').textContent = event.title;
    $('parties').textContent = event.parties.join(', ');
    $('me-line').hidden = !state.me;
    $('me').textContent = state.me || '';
    $('tz').textContent = zone;

    renderAgreed();
    renderAnswers();
    const agreed = event.state === 'agreed' ? event.agreed_slot : null;
    const list = $('slots');
    list.replaceChildren();
    event.slots.forEach((slot, index) => list.append(slotItem(slot, index, agreed)));
    $('no-slots').hidden = event.slots.length > 0;

    const recipients = $('recipients');
    recipients.replaceChildren();
    for (const party of otherParties()) {
      const box = el('input', { type: 'checkbox', name: 'recipient', value: party, checked: state.checked.has(party) });
      box.addEventListener('change', () => {
        if (box.checked) state.checked.add(party);
        else state.checked.delete(party);
      });
      recipients.append(el('li', {}, el('label', {}, box, el('span', {}, party))));
    }
    $('event').hidden = false;
  }

  function describeEntry(entry) {
    const data = entry.data || {};
    switch (entry.occurrence) {
      case 'VIEW':
        return 'viewed the event';
      case 'NOTIFY':
        return 'notified ' + (data.recipient || 'a party');
      case 'AGREE':
        return 'agreed on ' + (data.slot ? describeSlot(data.slot).local : 'a slot');
      case 'ANSWER':
        return describeAnswers(data);
      case 'UPDATE':
        if (data.opened) return 'created the event';
        if (data.closed) return 'deleted the event';
        if (data.reopened) return 'reopened the event';
        if (data.title) return 'renamed the event to “' + data.title + '”';
        return 'changed the event';
      default:
        return String(entry.occurrence).toLowerCase();
    }
  }

  // An ANSWER entry: how many slots got which answer (the entries of an
  // event with hidden answers carry no answers).
  function describeAnswers(data) {
    if (data.hidden || !Array.isArray(data.answers)) {
      return 'answered (kept private)';
    }
    const counts = ANSWERS.map((option) => [option, data.answers.filter((a) => a.answer === option.value).length])
      .filter(([, n]) => n > 0)
      .map(([option, n]) => n + ' ' + option.label);
    return counts.length ? 'answered: ' + counts.join(', ') : 'took back every answer';
  }

  function renderLog(entries) {
    const list = $('log');
    list.replaceChildren();
    // Newest first: what just happened is at the top.
    for (const entry of [...entries].reverse()) {
      const slots = Array.isArray(entry.slots) ? entry.slots.length : 0;
      const via = entry.data && entry.data.token ? ' (with a mail link)' : '';
      list.append(el('li', { class: String(entry.occurrence).toLowerCase() },
        el('time', { datetime: entry.when }, localFull.format(new Date(entry.when))),
        el('span', { class: 'what' },
          el('strong', {}, entry.effector), ' ' + describeEntry(entry) + via + ' · ' +
          plural(slots, 'slot', 'slots'))));
    }
    if (!entries.length) {
      list.append(el('li', { class: 'empty' }, 'Nothing yet.'));
    }
  }

  // The party the token was issued to: the effector of the newest VIEW made
  // with a mail link (ours, made by the GET just before).
  function findMe(entries) {
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      const entry = entries[i];
      if (entry.occurrence === 'VIEW' && entry.data && entry.data.token) {
        return entry.effector;
      }
    }
    return null;
  }

  async function refreshLog() {
    const entries = await fetchLog();
    if (!state.me) {
      state.me = findMe(entries);
    }
    const opening = entries.find((entry) => entry.occurrence === 'UPDATE' && entry.data && entry.data.opened);
    state.creator = opening ? opening.effector : state.creator;
    renderEvent();
    renderLog(entries);
  }

  // GET /ID/ (logs a VIEW) and the log.
  async function load() {
    const { data, response } = await api('GET', '/' + state.id + '/');
    state.event = data;
    state.version = response.headers.get('ETag');
    await refreshLog();
  }

  // ---- actions ----------------------------------------------------------------
  async function act(button, work) {
    const buttons = [...$('event').querySelectorAll('button')];
    buttons.forEach((b) => { b.disabled = true; });
    problem('');
    say('');
    state.acting = true;
    try {
      await work();
    } catch (error) {
      if (explain(error)) {
        try {
          await load();
        } catch (again) {
          explain(again);
        }
      }
    } finally {
      state.acting = false;
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  async function save() {
    const boxes = [...$('slots').querySelectorAll('input[type="checkbox"]')];
    // Kept slots exactly as the API sent them, so they compare equal.
    const kept = boxes.filter((b) => b.checked).map((b) => state.event.slots[Number(b.dataset.index)]);
    if (kept.length === state.event.slots.length) {
      say('Nothing to save: every slot is still ticked.');
      return;
    }
    const dropped = boxes.filter((b) => !b.checked).map((b) => slotKey(state.event.slots[Number(b.dataset.index)]));
    // If-Match: the change is for the slots this page shows; when someone
    // changed the event meanwhile (412), the choice is applied to the new set.
    let answer;
    try {
      answer = await api('PATCH', '/' + state.id + '/', { slots: kept },
        state.version ? { 'If-Match': state.version } : {});
    } catch (error) {
      if (error instanceof ApiError && error.status === 412 && error.body.event) {
        showChanged(error.body.event, error.etag, dropped);
        return;
      }
      throw error;
    }
    const { data, response } = answer;
    state.event = data;
    state.version = response.headers.get('ETag');
    await refreshLog();
    say('Saved: ' + plural(data.slots.length, 'slot', 'slots') + ' kept. Notify the others so they see it.');
  }

  function slotKey(slot) {
    return slot.begin + '/' + slot.duration;
  }

  // The slots the viewer has unticked and not saved yet.
  function droppedSlots() {
    return [...$('slots').querySelectorAll('input[type="checkbox"]')].filter((b) => !b.checked)
      .map((b) => slotKey(state.event.slots[Number(b.dataset.index)]));
  }

  // `event` as someone else left it, with the slots this person had
  // dropped unticked again where they are still offered.
  function renderKeepingChoice(event, etag, dropped) {
    state.event = event;
    state.version = etag;
    renderEvent();
    for (const box of $('slots').querySelectorAll('input[type="checkbox"]')) {
      if (dropped.includes(slotKey(event.slots[Number(box.dataset.index)]))) {
        box.checked = false;
        box.closest('li').classList.add('dropped');
      }
    }
  }

  function showChanged(event, etag, dropped) {
    renderKeepingChoice(event, etag, dropped);
    problem('Someone changed this event meanwhile: it now offers ' + plural(event.slots.length, 'slot', 'slots') +
      ', shown below with your choice applied. Check and save again.');
  }

  // Answers are set as a whole: the viewer's current row with one slot
  // changed. If-Match: when anyone changed the event meanwhile (412), the
  // answer is not saved and the page shows the event as it is now.
  async function answer(index, value) {
    const event = state.event;
    const answers = [];
    event.slots.forEach((slot, i) => {
      const given = i === index ? value : answerOf(state.me, slot);
      if (given !== 'pending') {
        answers.push({ slot, answer: given });
      }
    });
    let reply;
    try {
      reply = await api('PUT', '/' + state.id + '/answers/', { answers }, state.version ? { 'If-Match': state.version } : {});
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        await load();
        problem('Someone changed this event meanwhile, so your answer was not saved. ' +
          'The page now shows the event as it is: check and answer again.');
        return;
      }
      throw error;
    }
    state.event = reply.data;
    state.version = reply.response.headers.get('ETag');
    await refreshLog();
    const when = describeSlot(event.slots[index]).local;
    say(value === 'pending' ? 'Took back your answer for ' + when + '.'
      : 'Saved: ' + answerInfo(value).label + ' for ' + when + '.');
  }

  async function notify() {
    const parties = otherParties().filter((p) => state.checked.has(p));
    if (!parties.length) {
      problem('Pick at least one recipient to notify.');
      return;
    }
    // The event's current slots: the service checks them against its own.
    await api('POST', '/' + state.id + '/notify/', { parties, slots: state.event.slots });
    state.checked.clear();
    await refreshLog();
    say('Notified ' + parties.join(', ') + '. Each gets a mail with a fresh link.');
  }

  // Agree and reopen: the creator's. A refusal (403) says who may, and
  // leaves the page as it is.
  async function agreeOrReopen(path, body, done) {
    let answer;
    try {
      answer = await api('POST', '/' + state.id + path, body, state.version ? { 'If-Match': state.version } : {});
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) {
        problem('Only the creator of the event' + (state.creator ? ' (' + state.creator + ')' : '') +
          ' can agree on a time or reopen the event.');
        return;
      }
      if (error instanceof ApiError && error.status === 412 && error.body.event) {
        state.event = error.body.event;
        state.version = error.etag;
        renderEvent();
        problem('Someone changed this event meanwhile; it is shown below as it is now. Check and try again.');
        return;
      }
      throw error;
    }
    state.event = answer.data;
    state.version = answer.response.headers.get('ETag');
    await refreshLog();
    say(done);
  }

  async function agree(slot) {
    await agreeOrReopen('/agree/', { slot },
      'Agreed on ' + describeSlot(slot).local + '. Every party gets a calendar invitation.');
  }

  async function reopen() {
    await agreeOrReopen('/reopen/', undefined, 'Reopened: the slots can change again. Every party gets a cancellation.');
  }

  // ---- live: the event's changes as they happen ---------------------------------
  // GET /ID/changes/ (Server-Sent Events), read with fetch rather than
  // EventSource, which cannot send headers: the token would have to ride in
  // the stream's address (?et=), where a proxy's access log keeps it;
  // EventSource also sends cached Basic credentials (which would win over
  // the token) and, when it gives up, does not say why. With fetch the
  // token stays in X-Email-Token, credentials are omitted, and an expired
  // link gets its sentence from the 401. The page reads the frames and
  // reconnects with Last-Event-ID (the version it shows) as EventSource
  // would.
  const LIVE = {
    connecting: ['connecting…', 'Connecting to follow changes as they happen.'],
    live: ['live', 'Changes by the other parties appear here as they happen.'],
    reconnecting: ['reconnecting…', 'The connection dropped; reconnecting to follow changes.'],
    offline: ['not live', 'Changes by others no longer appear by themselves: reload the page to see them.'],
  };
  // The service sends a keep-alive every 15 seconds: silence for longer
  // than this means the connection is gone without a word.
  const STREAM_SILENCE_MS = 45000;

  function showLive(name) {
    const badge = $('live');
    badge.hidden = false;
    badge.dataset.state = name;
    [badge.textContent, badge.title] = LIVE[name];
  }

  function versionOf(etag) {
    const m = /^"(\d+)"$/.exec(etag || '');
    return m ? Number(m[1]) : 0;
  }

  function stopFollowing() {
    if (state.stream) {
      state.stream.abort();
      state.stream = null;
    }
  }

  async function follow() {
    stopFollowing();
    const stream = new AbortController();
    state.stream = stream;
    showLive(state.streamFailures ? 'reconnecting' : 'connecting');
    let response;
    try {
      response = await fetch('/' + state.id + '/changes/', {
        headers: {
          'Accept': 'text/event-stream', 'X-Email-Token': state.token,
          'Last-Event-ID': String(versionOf(state.version)),
        },
        cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer', signal: stream.signal,
      });
    } catch (error) {
      followAgainLater(stream);
      return;
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      refused(stream, new ApiError(response.status, parseJson(text)));
      return;
    }
    state.streamFailures = 0;
    showLive('live');
    try {
      await readFrames(response.body, stream);
    } catch (error) {
      // The connection dropped (or this page stopped following): below.
    }
    followAgainLater(stream);
  }

  // A refusal that passes (no answer, 429, 5xx) is tried again; any other
  // says what to do (an expired link: explain()'s sentence).
  function refused(stream, error) {
    if ([429, 502, 503, 504].includes(error.status)) {
      followAgainLater(stream);
      return;
    }
    if (state.stream === stream) {
      state.stream = null;
      explain(error);
      showLive('offline');
    }
  }

  // After 1, 2, 4... seconds (at most 30), unless the page stopped following.
  function followAgainLater(stream) {
    if (state.stream !== stream) {
      return;
    }
    state.stream = null;
    state.streamFailures += 1;
    showLive('reconnecting');
    setTimeout(() => {
      if (!state.stream && state.event) {
        follow();
      }
    }, Math.min(30000, 1000 * 2 ** (state.streamFailures - 1)));
  }

  // Server-Sent Events as the WHATWG standard frames them (the gateway ends
  // lines with LF only): a blank line ends a message, ':' a comment.
  async function readFrames(body, stream) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let watchdog = setTimeout(() => stream.abort(), STREAM_SILENCE_MS);
    try {
      while (state.stream === stream) {
        const { value, done } = await reader.read();
        if (done) {
          return;
        }
        clearTimeout(watchdog);
        watchdog = setTimeout(() => stream.abort(), STREAM_SILENCE_MS);
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0 && state.stream === stream; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          onMessage(parseFrame(frame));
        }
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  function parseFrame(frame) {
    const message = { event: 'message', id: null, data: [] };
    for (const line of frame.split('\n')) {
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1);
      if (name === 'event') message.event = value;
      else if (name === 'id') message.id = value;
      else if (name === 'data') message.data.push(value);
    }
    return message;
  }

  function onMessage(message) {
    if (message.event === 'change') {
      applyChange(parseJson(message.data.join('\n')), Number(message.id));
    } else if (message.event === 'deleted') {
      stopFollowing();
      showLive('offline');
      hideEvent();
      problem('This event has been deleted.');
    }
  }

  // A newer version from the stream: shown at once, keeping the viewer's
  // unsaved choice of slots; then the history. A version the page already
  // shows (its own change, whose answer came first) is skipped.
  async function applyChange(event, version) {
    if (!event || !state.event || !(version > versionOf(state.version))) {
      return;
    }
    renderKeepingChoice(event, '"' + version + '"', droppedSlots());
    if (!state.acting) {
      say('This event just changed: the page shows it as it is now.');
    }
    try {
      renderLog(await fetchLog());
    } catch (error) {
      // The history catches up with the next change or action.
    }
  }

  // ---- start ------------------------------------------------------------------
  async function start() {
    $('save').addEventListener('click', () => act($('save'), save));
    $('notify').addEventListener('click', () => act($('notify'), notify));
    $('reopen').addEventListener('click', () => act($('reopen'), reopen));
    $('ics').addEventListener('click', () => act($('ics'), downloadCalendar));
    $('ics-open').addEventListener('click', () => act($('ics-open'), downloadCalendar));
    $('agree-best').addEventListener('click', () => act($('agree-best'), () => agree(state.event.slots[bestIndex()])));
    try {
      if (!state.id) {
        problem('This address does not name an event. Open the link from your calndro mail.');
        return;
      }
      if (!state.token) {
        problem('This page needs the link from your calndro mail: it carries a personal key (the part after ' +
          '"?et=") that lets you see and change this event. Open the mail and use its link; if it has expired, ' +
          'ask another party to notify you again.');
        return;
      }
      try {
        await load();
        if (wantsLog) {
          $('log-heading').focus();
          $('history').scrollIntoView();
        }
        follow();
      } catch (error) {
        explain(error);
      }
    } finally {
      $('loading').hidden = true;
    }
  }

  start();
})();
