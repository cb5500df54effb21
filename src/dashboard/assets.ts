/**
 * The dashboard's script and style sheet, served as files (the policy allows no inline script).
 * Plain DOM code, no framework: the pages are rendered on the server; the script keeps them live
 * over server-sent events and drives the review keys. Untrusted text is only ever set with
 * `textContent`; the unit table fragment it swaps in was escaped by the server.
 *
 * @module
 */

/** `app.js`. */
export const APP_JS = `'use strict';
(function () {
  var body = document.body;
  var prefix = body.dataset.prefix || '';
  var csrfMeta = document.querySelector('meta[name="hitstate-csrf"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';
  var statusEl = document.getElementById('live-status');
  function el(tag, cls, text) { var n = document.createElement(tag); if (cls) n.className = cls; if (text !== undefined) n.textContent = text; return n; }
  function clock(ms) { return new Date(ms).toISOString().slice(11, 19); }

  // Live counts and feed.
  if (body.dataset.live !== undefined) {
    var run = body.dataset.live;
    var src = new EventSource(prefix + '/events' + (run ? '?run=' + encodeURIComponent(run) : ''));
    var tableBusy = false;
    var tableAgain = false;
    // The table is fetched again at most once per 20 times what the last fetch took (and per
    // second): a big run's table costs the server more, so it is asked for less often, which
    // keeps the page's share of the server's CPU near 5% at most. Counts stay live every message.
    var tableGap = 1000;
    var tableAt = 0;
    var tableTimer = null;
    function refreshTable() {
      var table = document.getElementById('unit-table');
      if (!table) return;
      if (tableBusy) { tableAgain = true; return; }
      var wait = tableAt + tableGap - Date.now();
      if (wait > 0) { if (!tableTimer) tableTimer = setTimeout(function () { tableTimer = null; refreshTable(); }, wait); return; }
      tableBusy = true;
      var started = Date.now();
      fetch(location.pathname + '/units' + location.search, { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var fresh = doc.getElementById('unit-table');
          var current = document.getElementById('unit-table');
          if (fresh && current) current.replaceWith(document.importNode(fresh, true));
        })
        .finally(function () {
          tableAt = Date.now();
          tableGap = Math.max(1000, 20 * (tableAt - started));
          tableBusy = false;
          if (tableAgain) { tableAgain = false; refreshTable(); }
        });
    }
    src.onopen = function () { if (statusEl) statusEl.textContent = 'live'; };
    src.onerror = function () { if (statusEl) statusEl.textContent = 'reconnecting…'; };
    src.onmessage = function (message) {
      var batch = JSON.parse(message.data);
      if (statusEl) statusEl.textContent = 'live · ' + clock(batch.at);
      Object.keys(batch.counts || {}).forEach(function (runId) {
        var counts = batch.counts[runId];
        if (run === runId) {
          document.querySelectorAll('[data-count]').forEach(function (n) { n.textContent = String(counts[n.getAttribute('data-count')] || 0); });
          var flows = (batch.flows || {})[runId] || {};
          document.querySelectorAll('[data-flow]').forEach(function (n) { var f = flows[n.getAttribute('data-flow')] || 0; n.textContent = f > 0 ? String(f) : ''; });
          var awaiting = document.getElementById('awaiting');
          if (awaiting) awaiting.textContent = String(counts.completed || 0);
        }
        var cell = document.querySelector('[data-counts-of="' + CSS.escape(runId) + '"]');
        if (cell) {
          cell.textContent = '';
          Object.keys(counts).forEach(function (s) {
            if (counts[s] > 0) { var p = el('span', 'pill s-' + s, s + ' ' + counts[s]); p.setAttribute('data-run-count', s); cell.appendChild(p); cell.appendChild(document.createTextNode(' ')); }
          });
        }
      });
      var feed = document.getElementById('feed');
      if (feed) {
        (batch.events || []).forEach(function (ev) {
          var li = el('li', 'ev-' + ev.kind);
          li.appendChild(el('time', '', clock(ev.at)));
          li.appendChild(document.createTextNode(' ' + ev.text));
          feed.insertBefore(li, feed.firstChild);
        });
        if (batch.dropped > 0) feed.insertBefore(el('li', 'dropped', '… and ' + batch.dropped + ' more events'), feed.firstChild);
        while (feed.children.length > 100) feed.removeChild(feed.lastChild);
      }
      if ((batch.events || []).some(function (ev) { return ev.kind === 'unit' || ev.kind === 'agent' || ev.kind === 'refresh'; })) refreshTable();
    };
  }

  // Confirmed actions (bulk, worker): the server previews what will happen and what it costs,
  // the user confirms (Enter) or cancels (Esc), and one POST carrying the preview's plan and one
  // idempotency key runs it; a double press sends the same key and gets the first answer.
  var actPanel = document.getElementById('act-confirm');
  var actText = document.getElementById('act-confirm-text');
  var actPending = null;
  var actBusy = false;
  function post(endpoint, payload) {
    return fetch(endpoint, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(payload) })
      .then(function (r) { return r.json().then(function (json) { return { ok: r.ok, json: json }; }); });
  }
  function fields(formEl) {
    var out = {};
    Array.prototype.forEach.call(formEl.elements, function (n) { if (n.name) out[n.name] = n.value; });
    return out;
  }
  function actCancel() { if (actPanel) actPanel.hidden = true; actPending = null; }
  function actSend() {
    if (!actPending || actBusy) return;
    var pending = actPending;
    actBusy = true;
    actPanel.hidden = true;
    pending.result.textContent = 'sending to MTurk…';
    pending.result.className = 'result sending';
    post(pending.endpoint, pending.payload)
      .then(function (answer) {
        var json = answer.json;
        var message = json.error ? json.error.message : json.message;
        pending.result.textContent = (answer.ok && json.confirmed ? '' : answer.ok ? '' : 'refused: ') + message;
        pending.result.className = 'result ' + (answer.ok && json.confirmed ? 'confirmed' : 'refused');
      })
      .catch(function (err) { pending.result.textContent = 'failed: ' + err.message; pending.result.className = 'result refused'; })
      .finally(function () { actBusy = false; actPending = null; });
  }
  document.querySelectorAll('form.act-form').forEach(function (formEl) {
    formEl.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (actBusy) return;
      var result = formEl.querySelector('.result');
      var payload = fields(formEl);
      payload.preview = true;
      result.textContent = 'working out what this does…';
      result.className = 'result sending';
      post(formEl.dataset.endpoint, payload).then(function (answer) {
        if (!answer.ok) { result.textContent = 'refused: ' + answer.json.error.message; result.className = 'result refused'; return; }
        if (answer.json.refusal) { result.textContent = answer.json.refusal; result.className = 'result refused'; return; }
        result.textContent = ''; result.className = 'result';
        delete payload.preview;
        payload.plan = answer.json.plan;
        // One idempotency key per confirmation: pressing confirm twice sends the same key.
        payload.key = 'act:' + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
        actPending = { endpoint: formEl.dataset.endpoint, payload: payload, result: result };
        actText.textContent = answer.json.text;
        actPanel.hidden = false;
        document.getElementById('act-yes').focus();
      }).catch(function (err) { result.textContent = 'failed: ' + err.message; result.className = 'result refused'; });
    });
  });
  if (actPanel) {
    actPanel.addEventListener('submit', function (ev) { ev.preventDefault(); actSend(); });
    document.getElementById('act-no').addEventListener('click', actCancel);
    document.addEventListener('keydown', function (ev) {
      if (actPanel.hidden) return;
      if (ev.key === 'Escape') { ev.preventDefault(); actCancel(); }
    });
  }

  // Review: one submission at a time, keyboard first.
  var actions = document.getElementById('review-actions');
  if (!actions) return;
  var endpoint = actions.dataset.endpoint;
  var unavailable = actions.dataset.unavailable;
  var form = document.getElementById('confirm');
  var text = document.getElementById('confirm-text');
  var pending = null;
  var busy = false;
  function items() { return Array.prototype.slice.call(document.querySelectorAll('.review-item')); }
  function current() { return document.querySelector('.review-item.current'); }
  function move(step) {
    var all = items(); var at = all.indexOf(current());
    if (at < 0 || all.length === 0) return;
    var next = all[Math.min(all.length - 1, Math.max(0, at + step))];
    all[at].classList.remove('current'); next.classList.add('current');
  }
  function show(id, on) { document.getElementById(id).hidden = !on; }
  function ask(kind) {
    var item = current();
    if (!item || busy) return;
    if (unavailable) { item.querySelector('.result').textContent = unavailable; return; }
    if (item.dataset.done) return;
    var reward = item.dataset.reward; var fee = item.dataset.fee; var worker = item.dataset.worker;
    var words = {
      approve: 'Approve: pay worker ' + worker + ' the reward of $' + reward + ' (MTurk fee ' + fee + ')?',
      reject: 'Reject: worker ' + worker + ' is not paid and the rejection counts against their approval rate. Feedback is required.',
      softReject: 'Soft-reject: pay worker ' + worker + ' the reward of $' + reward + ' (fee ' + fee + ') but record the work as rejected?',
      bonus: 'Pay worker ' + worker + ' a bonus (MTurk adds a 20% fee)?'
    };
    var budget = actions.dataset.budget;
    // One idempotency key per confirmation: pressing confirm twice sends the same key.
    pending = { kind: kind, agentId: item.dataset.agent, key: item.dataset.agent + ':' + kind + ':' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8) };
    text.textContent = words[kind] + (budget && kind !== 'reject' ? ' Budget: ' + budget + '.' : '');
    show('feedback-label', kind === 'reject'); show('amount-label', kind === 'bonus'); show('reason-label', kind === 'bonus');
    form.hidden = false;
    var focus = kind === 'reject' ? 'feedback' : kind === 'bonus' ? 'amount' : 'confirm-yes';
    document.getElementById(focus).focus();
  }
  function cancel() { form.hidden = true; pending = null; }
  function send() {
    if (!pending || busy) return;
    var item = current();
    var action = pending;
    var payload = { agentId: action.agentId, kind: action.kind, key: action.key };
    if (action.kind === 'reject') payload.feedback = document.getElementById('feedback').value;
    if (action.kind === 'bonus') { payload.amountUsd = document.getElementById('amount').value; payload.reason = document.getElementById('reason').value; }
    busy = true;
    form.hidden = true;
    var result = item.querySelector('.result');
    result.textContent = 'sending to MTurk…';
    result.className = 'result sending';
    fetch(endpoint, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(payload) })
      .then(function (r) { return r.json().then(function (json) { return { ok: r.ok, json: json }; }); })
      .then(function (answer) {
        if (!answer.ok) { result.textContent = 'refused: ' + answer.json.error.message; result.className = 'result refused'; return; }
        result.textContent = answer.json.message; result.className = 'result ' + (answer.json.confirmed ? 'confirmed' : 'refused');
        if (answer.json.confirmed && action.kind !== 'bonus') { item.dataset.done = '1'; item.classList.add('done'); move(1); }
      })
      .catch(function (err) { result.textContent = 'failed: ' + err.message; result.className = 'result refused'; })
      .finally(function () { busy = false; pending = null; });
  }
  form.addEventListener('submit', function (ev) { ev.preventDefault(); send(); });
  document.getElementById('confirm-no').addEventListener('click', cancel);
  actions.addEventListener('click', function (ev) {
    var button = ev.target.closest('button[data-action]');
    if (!button) return;
    var a = button.dataset.action;
    if (a === 'next') move(1); else if (a === 'prev') move(-1); else ask(a);
  });
  document.addEventListener('keydown', function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var typing = ev.target instanceof HTMLInputElement;
    if (!form.hidden) {
      if (ev.key === 'Escape') { ev.preventDefault(); cancel(); }
      else if (ev.key === 'Enter' && !typing) { ev.preventDefault(); send(); }
      return;
    }
    if (typing) return;
    var map = { a: 'approve', r: 'reject', s: 'softReject', b: 'bonus' };
    if (map[ev.key]) { ev.preventDefault(); ask(map[ev.key]); }
    else if (ev.key === 'j' || ev.key === 'n') move(1);
    else if (ev.key === 'k') move(-1);
  });
})();
`;

/** `app.css`. */
export const APP_CSS = `
:root { --fg:#1d2330; --muted:#667085; --line:#e3e6ec; --bg:#f7f8fa; --accent:#3355cc; }
* { box-sizing: border-box; }
[hidden] { display:none !important; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; gap:12px; align-items:center; padding:10px 20px; background:#1d2330; color:#fff; }
header a.brand { color:#fff; font-weight:700; text-decoration:none; }
header .mode { color:#b8c0d0; } .live-status { margin-left:auto; color:#9fe0b0; }
main { padding:16px 20px 40px; max-width:1280px; margin:0 auto; }
h1 { font-size:22px; margin:6px 0 10px; } h2 { font-size:16px; margin:18px 0 8px; } h2 small { color:var(--muted); font-weight:400; }
a { color:var(--accent); } .crumbs, .meta, .sub { color:var(--muted); } .sub { font-size:12px; }
table.grid { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
table.grid th, table.grid td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
table.grid th a { color:inherit; text-decoration:none; } td.num { text-align:right; } .mono { font-family:ui-monospace, monospace; font-size:12px; }
td.preview { max-width:360px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; font-family:ui-monospace, monospace; font-size:12px; }
.pill { display:inline-block; padding:1px 7px; border-radius:9px; background:#e8ebf2; font-size:12px; white-space:nowrap; }
.s-launched { background:#dfe9ff; } .s-assigned { background:#fff0c7; } .s-completed { background:#e4d9ff; } .s-accepted { background:#d3f2dc; }
.s-rejected { background:#ffd9d6; } .s-soft_rejected { background:#ffe6cc; } .s-expired { background:#e6e6e6; }
.top { display:flex; gap:16px; flex-wrap:wrap; align-items:flex-start; } .chart-box { background:#fff; border:1px solid var(--line); padding:8px 12px; overflow:auto; }
svg.chart .node rect { fill:#fff; stroke:#8892a6; stroke-width:1.5; } svg.chart .node.final rect { fill:#f4f6f9; }
svg.chart .node.selected rect { stroke:var(--accent); stroke-width:3; } svg.chart a:hover rect { fill:#eef2ff; }
svg.chart .state-name { font-weight:600; font-size:13px; fill:#1d2330; } svg.chart .state-count { font-size:20px; font-weight:700; fill:var(--accent); }
svg.chart .substates { font-size:10px; fill:#667085; } svg.chart .flow { font-size:11px; font-weight:600; fill:#b45309; }
.money { background:#fff; border:1px solid var(--line); padding:8px 14px; min-width:280px; } .money dl { display:grid; grid-template-columns:auto auto; gap:4px 14px; margin:0; } .money dd { margin:0; text-align:right; }
form.search { margin:16px 0 8px; display:flex; gap:8px; align-items:center; } form.search input[type=search] { width:340px; padding:5px 8px; }
.pager { display:flex; gap:16px; padding:8px 0; color:var(--muted); }
.feed { margin-top:16px; } .feed-list { list-style:none; padding:0; margin:0; max-height:260px; overflow:auto; background:#fff; border:1px solid var(--line); font-size:12px; }
.feed-list li { padding:3px 8px; border-bottom:1px solid var(--line); } .feed-list time { color:var(--muted); font-family:ui-monospace, monospace; }
dl.meta { display:grid; grid-template-columns:max-content auto; gap:2px 14px; } dl.meta dd, .agent dd { margin:0; }
.agent { background:#fff; border:1px solid var(--line); padding:8px 14px; margin-bottom:10px; } .agent dl { display:grid; grid-template-columns:max-content auto; gap:2px 14px; }
details.json { margin-left:4px; } details.json ul { list-style:none; margin:0; padding-left:18px; border-left:1px dotted #c8ccd6; }
.j-key { color:#7a3e9d; } .j-string { color:#1a7f37; } .j-number, .j-boolean { color:#0550ae; } .j-null { color:var(--muted); }
.submission { background:#fff; border:1px solid var(--line); padding:8px; font-family:ui-monospace, monospace; font-size:13px; }
.review-item { display:none; background:#fff; border:1px solid var(--line); padding:10px 16px; } .review-item.current { display:block; } .review-item.done h2::after { content:" ✓ reviewed"; color:#1a7f37; }
.actions { margin:10px 0; } .actions button, .confirm button { padding:5px 10px; }
.confirm { background:#fffbe6; border:1px solid #e8d27a; padding:10px 14px; margin:8px 0; } .confirm label { display:block; margin:6px 0; }
.result.confirmed { color:#1a7f37; font-weight:600; } .result.refused, .refusal { color:#b42318; font-weight:600; } .result.sending { color:var(--muted); }
.bulk form, .worker-action { display:flex; flex-wrap:wrap; gap:8px; align-items:center; margin:6px 0; } .bulk .result, .worker-action .result { flex-basis:100%; margin:2px 0; }
.act-confirm { position:fixed; left:50%; bottom:24px; transform:translateX(-50%); max-width:760px; box-shadow:0 6px 24px rgba(0,0,0,.18); z-index:10; }
header a.nav { color:#dfe6f5; } .budget { color:var(--muted); }
iframe.review-view { width:100%; min-height:180px; border:1px solid var(--line); background:#fff; margin-bottom:8px; }
kbd { border:1px solid #c8ccd6; border-bottom-width:2px; border-radius:4px; padding:0 4px; background:#fff; font-size:12px; }
`;
