/**
 * The dashboard page: one self-contained HTML document (inline CSS and JS, no external request,
 * no CDN — nodes often have no internet and the page must not leak to one). It holds no data: the
 * script asks for a token, keeps it in sessionStorage (gone with the tab; never in a URL query, so
 * never in logs, history or Referer headers), and reads the JSON API with it every few seconds.
 * A token may also be handed over in the URL fragment (`/dashboard#token=hst_…`), which browsers
 * never send to the server; the script moves it to sessionStorage and removes it from the address
 * bar at once.
 *
 * Everything from the API is inserted with textContent / setAttribute, never as HTML: member
 * names come from certificates, event details from peers' misbehaviour.
 */

export const DASHBOARD_CSS = `
:root { --bg: #0f1419; --panel: #161c23; --line: #2a333d; --text: #d8dee6; --dim: #8a96a3; --ok: #3fb950; --warn: #d29922; --bad: #f85149; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
header { display: flex; gap: 16px; align-items: center; padding: 12px 20px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; padding: 16px 20px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 8px; color: var(--dim); font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 320px; }
th { color: var(--dim); font-weight: 500; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; border: 1px solid currentColor; }
.s-alive, .s-healthy, .s-ok { color: var(--ok); }
.s-suspect, .s-degraded, .s-no-gossip, .s-offense, .s-threshold { color: var(--warn); }
.s-dead, .s-left, .s-partitioned, .s-evicted, .s-graylisted, .s-banned, .s-ban, .s-evidence { color: var(--bad); }
.dim { color: var(--dim); }
#status { margin-left: auto; color: var(--dim); }
#status.error { color: var(--bad); }
form { display: flex; gap: 8px; align-items: center; }
input[type=password] { background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 4px; padding: 5px 8px; width: 340px; }
button { background: #238636; color: #fff; border: 0; border-radius: 4px; padding: 6px 12px; cursor: pointer; }
button.secondary { background: #30363d; }
.hidden { display: none !important; }
svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--dim); font-size: 11px; }
.axis { stroke: var(--line); }
.threshold { stroke-dasharray: 4 4; stroke-width: 1; }
.t-gossip { stroke: var(--warn); } .t-evict { stroke: #db6d28; } .t-graylist { stroke: var(--bad); }
.line { fill: none; stroke-width: 2; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 6px; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.c0 { stroke: #58a6ff; background: #58a6ff; } .c1 { stroke: #f78166; background: #f78166; } .c2 { stroke: #3fb950; background: #3fb950; }
.c3 { stroke: #d2a8ff; background: #d2a8ff; } .c4 { stroke: #e3b341; background: #e3b341; } .c5 { stroke: #56d4dd; background: #56d4dd; }
.c6 { stroke: #ff7b72; background: #ff7b72; } .c7 { stroke: #a5d6ff; background: #a5d6ff; }
`;

export const DASHBOARD_JS = `
'use strict';
(function () {
  var TOKEN_KEY = 'hearsay-admin-token';
  var REFRESH_MS = 3000;
  var timer = null;
  var $ = function (id) { return document.getElementById(id); };

  // A token handed over in the fragment moves to sessionStorage and leaves the address bar.
  if (location.hash.indexOf('#token=') === 0) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(location.hash.slice(7)));
    history.replaceState(null, '', location.pathname + location.search);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function badge(state) { return el('span', 'badge s-' + String(state).replace(/[^a-z-]/g, ''), state); }
  function row(cells) {
    var tr = el('tr');
    cells.forEach(function (c) {
      var td = el('td', c && c.cls ? c.cls : '');
      if (c instanceof Node) td.appendChild(c);
      else if (c && c.node) td.appendChild(c.node);
      else td.textContent = c && c.text !== undefined ? c.text : (c === null || c === undefined ? '' : String(c));
      tr.appendChild(td);
    });
    return tr;
  }
  function fill(tbody, rows) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  function short(id) { return id ? id.slice(0, 12) : ''; }
  function time(ms) { return new Date(ms).toLocaleTimeString(); }
  function fixed(x) { return x === null || x === undefined ? '' : Number(x).toFixed(2); }

  function status(text, isError) {
    var s = $('status');
    s.textContent = text;
    s.className = isError ? 'error' : '';
  }

  function api(path) {
    return fetch(path, {
      headers: { authorization: 'Bearer ' + sessionStorage.getItem(TOKEN_KEY) },
      cache: 'no-store', credentials: 'omit', redirect: 'error', referrerPolicy: 'no-referrer'
    }).then(function (r) {
      if (r.ok) return r.json();
      return r.json().catch(function () { return null; }).then(function (b) {
        var e = new Error(b && b.error ? b.error.message + ' [' + b.error.code + ']' : 'HTTP ' + r.status);
        e.status = r.status;
        throw e;
      });
    });
  }

  function showLogin(message) {
    if (timer !== null) { clearInterval(timer); timer = null; }
    $('login').classList.remove('hidden');
    $('logout').classList.add('hidden');
    $('content').classList.add('hidden');
    status(message || 'paste an admin API token (read-only is enough)', !!message);
  }

  function renderHealth(h) {
    $('node-name').textContent = h.node ? h.node.name + ' (' + h.node.tenant + ')' : 'node';
    var hs = $('health');
    while (hs.firstChild) hs.removeChild(hs.firstChild);
    hs.appendChild(badge(h.state));
    hs.appendChild(el('span', 'dim', ' reaches ' + Math.round(h.reachableShare * 100) + '% of members, ' +
      h.seedsReachable + '/' + h.seeds + ' seeds; policy v' + h.policyVersion + ', revocations v' + h.revocationVersion +
      '; token ' + h.caller.name + ' (' + h.caller.scope + ', ' + h.caller.access + ')'));
  }

  function renderMembers(m) {
    $('members-count').textContent = String(m.total);
    fill($('members-body'), m.members.map(function (x) {
      return row([x.name + (x.self ? ' (this node)' : ''), x.tenant, badge(x.state), x.address, x.roles.join(', '), { text: x.incarnation, cls: 'num' }]);
    }));
  }

  function renderPeers(p) {
    fill($('peers-body'), p.peers.map(function (x) {
      return row([x.name || short(x.id), { text: short(x.id), cls: 'dim' }, { text: fixed(x.score), cls: 'num' }, badge(x.level),
        x.ban ? x.ban.source + ' until ' + time(x.ban.until) : '']);
    }));
  }

  function renderEvents(e) {
    fill($('events-body'), e.events.map(function (x) {
      return row([time(x.at), x.peerName || short(x.peer), badge(x.type), x.offense || '', x.detail, { text: fixed(x.score), cls: 'num' }]);
    }));
  }

  function renderChart(s) {
    var chart = $('score-chart');
    while (chart.firstChild) chart.removeChild(chart.firstChild);
    var W = 760, H = 260, L = 48, R = 10, T = 10, B = 24;
    var series = s.series.filter(function (x) { return x.points.length > 0; });
    var t0 = Infinity, t1 = s.now, y0 = s.thresholds.evict - 5, y1 = 10;
    series.forEach(function (x) {
      x.points.forEach(function (p) { t0 = Math.min(t0, p[0]); y0 = Math.min(y0, p[1]); y1 = Math.max(y1, p[1]); });
    });
    if (!isFinite(t0) || t0 >= t1) t0 = t1 - 60000;
    y0 = Math.max(y0, s.thresholds.ban * 1.1);
    var X = function (t) { return L + (t - t0) / (t1 - t0) * (W - L - R); };
    var Y = function (v) { return T + (y1 - Math.max(y0, Math.min(y1, v))) / (y1 - y0) * (H - T - B); };
    chart.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
    chart.appendChild(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
    [y1, 0, y0].forEach(function (v) {
      var t = svg('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end' });
      t.textContent = Math.round(v);
      chart.appendChild(t);
    });
    ['gossip', 'evict', 'graylist'].forEach(function (k) {
      var v = s.thresholds[k];
      if (v < y0 || v > y1) return;
      chart.appendChild(svg('line', { x1: L, y1: Y(v), x2: W - R, y2: Y(v), class: 'threshold t-' + k }));
      var t = svg('text', { x: W - R - 4, y: Y(v) - 3, 'text-anchor': 'end' });
      t.textContent = k;
      chart.appendChild(t);
    });
    var tl = svg('text', { x: L, y: H - 6 }); tl.textContent = time(t0); chart.appendChild(tl);
    var tr = svg('text', { x: W - R, y: H - 6, 'text-anchor': 'end' }); tr.textContent = time(t1); chart.appendChild(tr);
    var legend = $('score-legend');
    while (legend.firstChild) legend.removeChild(legend.firstChild);
    series.slice(0, 8).forEach(function (x, i) {
      var pts = x.points.map(function (p) { return X(p[0]).toFixed(1) + ',' + Y(p[1]).toFixed(1); }).join(' ');
      var line = svg(x.points.length > 1 ? 'polyline' : 'circle', x.points.length > 1
        ? { points: pts, class: 'line c' + i, 'data-peer': x.id }
        : { cx: X(x.points[0][0]), cy: Y(x.points[0][1]), r: 3, class: 'line c' + i, 'data-peer': x.id });
      var title = svg('title', {}); title.textContent = (x.name || short(x.id)) + ': ' + fixed(x.points[x.points.length - 1][1]);
      line.appendChild(title);
      chart.appendChild(line);
      var item = el('span');
      item.appendChild(el('span', 'swatch c' + i));
      item.appendChild(document.createTextNode((x.name || short(x.id)) + ' ' + fixed(x.points[x.points.length - 1][1])));
      legend.appendChild(item);
    });
    if (series.length === 0) legend.appendChild(el('span', 'dim', 'no samples yet'));
  }

  function refresh() {
    Promise.all([api('/v1/health'), api('/v1/members'), api('/v1/peers?limit=50'), api('/v1/events?limit=40'), api('/v1/scores?peers=8')])
      .then(function (r) {
        $('login').classList.add('hidden');
        $('logout').classList.remove('hidden');
        $('content').classList.remove('hidden');
        renderHealth(r[0]); renderMembers(r[1]); renderPeers(r[2]); renderEvents(r[3]); renderChart(r[4]);
        status('updated ' + new Date().toLocaleTimeString(), false);
      })
      .catch(function (e) {
        if (e.status === 401) { sessionStorage.removeItem(TOKEN_KEY); showLogin(e.message); }
        else status(e.message, true);
      });
  }

  function start() {
    refresh();
    if (timer === null) timer = setInterval(refresh, REFRESH_MS);
  }

  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var v = $('token').value.trim();
    $('token').value = '';
    if (v === '') return;
    sessionStorage.setItem(TOKEN_KEY, v);
    start();
  });
  $('logout').addEventListener('click', function () { sessionStorage.removeItem(TOKEN_KEY); showLogin(); });

  if (sessionStorage.getItem(TOKEN_KEY)) start(); else showLogin();
})();
`;

export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Hearsay dashboard</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header>
  <h1>Hearsay — <span id="node-name">node</span></h1>
  <span id="health"></span>
  <form id="login" class="hidden" autocomplete="off">
    <input type="password" id="token" placeholder="hst_… admin API token" aria-label="admin API token">
    <button type="submit">Open</button>
  </form>
  <button id="logout" class="secondary hidden" type="button">Forget token</button>
  <span id="status"></span>
</header>
<main id="content" class="hidden">
  <section class="wide">
    <h2>Reputation scores over time (lowest first)</h2>
    <svg id="score-chart" viewBox="0 0 760 260" role="img" aria-label="reputation scores over time"></svg>
    <div id="score-legend" class="legend"></div>
  </section>
  <section>
    <h2>Members (<span id="members-count">0</span>)</h2>
    <table><thead><tr><th>name</th><th>tenant</th><th>state</th><th>address</th><th>roles</th><th>inc.</th></tr></thead><tbody id="members-body"></tbody></table>
  </section>
  <section>
    <h2>Peers by score</h2>
    <table><thead><tr><th>name</th><th>id</th><th>score</th><th>level</th><th>ban</th></tr></thead><tbody id="peers-body"></tbody></table>
  </section>
  <section class="wide">
    <h2>Recent reputation events</h2>
    <table><thead><tr><th>time</th><th>peer</th><th>type</th><th>offense</th><th>detail</th><th>score</th></tr></thead><tbody id="events-body"></tbody></table>
  </section>
</main>
<script>${DASHBOARD_JS}</script>
</body>
</html>
`;
}
