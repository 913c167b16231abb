// Teller's live dashboard: one server-sent event stream (/dashboard/stream), a hello with
// everything and a tick every 250 ms with what changed. Plain JavaScript, no build step and no
// library: the page must work on machines without Internet access. Only the rows on screen exist
// in the DOM (a virtual list), so 10,000 instances cost what 40 do.
(function () {
  'use strict';

  const ROW = 30; // px; the same as --row in the CSS
  const OVERSCAN = 8;
  const SPARK_POINTS = 60;
  const PALETTE = ['#2f6fdb', '#e36209', '#1a7f37', '#8250df', '#bf3989', '#0a7ea4', '#9a6700', '#57606a'];
  const TOKEN_KEY = 'teller.apiToken';

  // Row figures, as the stream sends them: [inFlight, {balancer: n}, rps, {balancer: rps},
  // errorRate, p50Ms, p99Ms, ejections, [ejectedBy]]; a balancer is a short key that the
  // balancers list maps to its member id.
  const F_INFLIGHT = 0, F_INFLIGHT_BY = 1, F_RPS = 2, F_RPS_BY = 3, F_ERR = 4, F_P50 = 5,
    F_P99 = 6, F_EJ = 7, F_EJ_BY = 8;

  const state = {
    services: new Map(),   // name -> service JSON
    instances: new Map(),  // id -> instance JSON
    rows: new Map(),       // id -> figures
    spark: new Map(),      // id -> Float64Array of SPARK_POINTS - 1 complete bins, oldest first
    sparkEnd: 0,           // the last complete bin
    balancers: [],
    colors: new Map(),     // balancer member -> colour
    members: new Map(),    // balancer key (in rows) -> member id
    timeline: [],
    lastTick: 0,
    list: [],              // the flattened rows on offer: {kind, name|id}
    byService: new Map(),  // service name -> its instances (as of the last buildList)
    dirtyList: true,
    dirtyFigures: true,    // header and balancer cards to redraw (not on every scroll frame)
    filter: '',
  };

  const $ = (id) => document.getElementById(id);
  const viewport = $('viewport');
  const spacer = $('spacer');
  const pool = []; // row elements, reused as the list scrolls

  // ---- the stream ----

  let source;
  function connect() {
    source = new EventSource('stream');
    source.addEventListener('hello', (e) => hello(JSON.parse(e.data)));
    source.addEventListener('tick', (e) => tick(JSON.parse(e.data)));
    source.onerror = () => { $('live').textContent = 'reconnecting…'; $('live').classList.add('stale'); };
  }

  function hello(msg) {
    $('node').textContent = 'registry node ' + short(msg.node);
    state.services.clear();
    state.instances.clear();
    state.rows.clear();
    state.spark.clear();
    msg.services.forEach((s) => state.services.set(s.name, s));
    msg.instances.forEach((i) => state.instances.set(i.id, i));
    Object.entries(msg.rows).forEach(([id, row]) => state.rows.set(id, row));
    state.sparkEnd = msg.bin - 1;
    Object.entries(msg.spark).forEach(([id, points]) => state.spark.set(id, Float64Array.from(points)));
    state.timeline = msg.timeline.slice().reverse();
    setBalancers(msg.balancers);
    state.lastTick = Date.now();
    state.dirtyList = true;
    state.dirtyFigures = true;
    renderTimeline();
    schedule();
  }

  function tick(msg) {
    state.lastTick = Date.now();
    for (const change of msg.changes) apply(change);
    for (const [id, row] of Object.entries(msg.rows)) state.rows.set(id, row);
    if (msg.spark) closeBin(msg.spark.bin, msg.spark.rates);
    setBalancers(msg.balancers);
    state.dirtyFigures = true;
    schedule();
  }

  function apply(change) {
    const isService = change.kind === 'service';
    const before = isService ? state.services.get(change.service) : state.instances.get(change.id);
    if (change.removed) {
      if (isService) state.services.delete(change.service);
      else { state.instances.delete(change.id); state.rows.delete(change.id); state.spark.delete(change.id); }
    } else if (isService) {
      state.services.set(change.service, change.data);
    } else {
      state.instances.set(change.id, change.data);
    }
    state.dirtyList = true;
    const summary = describe(change, before);
    if (summary) {
      state.timeline.unshift({ at: Date.now(), event: change.kind + (change.removed ? '-removed' : '-stored'), summary });
      if (state.timeline.length > 100) state.timeline.length = 100;
      renderTimeline();
    }
  }

  // The same wording as the registry's timeline (DashboardView.summary).
  function describe(change, before) {
    if (change.kind === 'service') {
      if (change.removed) return 'service ' + change.service + ' removed';
      if (!before) return 'service ' + change.service + ' defined (' + change.data.strategy + ')';
      return 'service ' + change.service + ' updated' +
        (before.strategy === change.data.strategy ? '' : ': ' + before.strategy + ' → ' + change.data.strategy);
    }
    if (change.removed) return 'instance ' + change.id + ' removed';
    const now = change.data;
    if (!before) return 'instance ' + change.id + ' registered at ' + now.host + ':' + now.port + ' (' + now.status + ', weight ' + now.weight + ')';
    const what = [];
    if (before.status !== now.status) what.push(before.status + ' → ' + now.status);
    if (before.weight !== now.weight) what.push('weight ' + before.weight + ' → ' + now.weight);
    return what.length ? 'instance ' + change.id + ': ' + what.join(', ') : null;
  }

  function closeBin(bin, rates) {
    const shift = Math.max(0, Math.min(SPARK_POINTS - 1, bin - state.sparkEnd));
    state.sparkEnd = bin;
    if (shift === 0) return;
    for (const [id, series] of state.spark) {
      series.copyWithin(0, shift);
      series.fill(0, series.length - shift);
      if (!(id in rates) && series.every((v) => v === 0)) state.spark.delete(id);
    }
    for (const [id, rate] of Object.entries(rates)) {
      let series = state.spark.get(id);
      if (!series) { series = new Float64Array(SPARK_POINTS - 1); state.spark.set(id, series); }
      series[series.length - 1] = rate;
    }
  }

  function setBalancers(list) {
    state.balancers = list;
    list.forEach((b) => {
      state.members.set(b.key, b.member);
      if (!state.colors.has(b.member)) state.colors.set(b.member, PALETTE[state.colors.size % PALETTE.length]);
    });
  }

  // ---- the list: services, each followed by its instances, filtered ----

  function buildList() {
    const words = state.filter.toLowerCase().split(/\s+/).filter(Boolean);
    const byService = new Map();
    for (const i of state.instances.values()) {
      let list = byService.get(i.service);
      if (!list) { list = []; byService.set(i.service, list); }
      list.push(i);
    }
    const names = Array.from(new Set([...state.services.keys(), ...byService.keys()])).sort();
    const list = [];
    let instanceCount = 0;
    for (const name of names) {
      const instances = (byService.get(name) || []).sort((a, b) => a.id < b.id ? -1 : 1);
      const serviceMatches = words.every((w) => name.includes(w));
      const shown = serviceMatches ? instances : instances.filter((i) => {
        const text = (i.id + ' ' + i.host + ':' + i.port + ' ' + statusOf(i)).toLowerCase();
        return words.every((w) => text.includes(w) || name.includes(w));
      });
      if (!serviceMatches && shown.length === 0) continue;
      list.push({ kind: 'service', name, count: instances.length });
      for (const i of shown) list.push({ kind: 'instance', id: i.id });
      instanceCount += shown.length;
    }
    state.list = list;
    state.byService = byService;
    spacer.style.height = (list.length * ROW) + 'px';
    $('shown').textContent = instanceCount + ' of ' + state.instances.size + ' instances, ' +
      list.filter((r) => r.kind === 'service').length + ' of ' + names.length + ' services';
  }

  function statusOf(instance) {
    const row = state.rows.get(instance.id);
    if (instance.status === 'healthy' && row && row[F_EJ_BY].length > 0) return 'ejected';
    return instance.status;
  }

  // ---- rendering, at most once a frame ----

  let scheduled = false;
  function schedule() {
    if (!scheduled) { scheduled = true; requestAnimationFrame(render); }
  }

  function render() {
    scheduled = false;
    if (state.dirtyList) { state.dirtyList = false; buildList(); }
    if (state.dirtyFigures) { state.dirtyFigures = false; renderTotals(); renderBalancers(); }
    renderRows();
    renderLive();
    if (state.lastTick !== 0 && performance.getEntriesByName('teller-first-render').length === 0) {
      // When the figures first showed: what a person waits for (tests read it).
      performance.mark('teller-first-render');
    }
  }

  function renderRows() {
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(state.list.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW) + OVERSCAN);
    const needed = last - first;
    while (pool.length < needed) {
      const el = document.createElement('div');
      viewport.appendChild(el);
      pool.push(el);
    }
    for (let k = 0; k < pool.length; k++) {
      const el = pool[k];
      if (k >= needed) { el.hidden = true; continue; }
      el.hidden = false;
      const index = first + k;
      el.style.transform = 'translateY(' + (index * ROW) + 'px)';
      const item = state.list[index];
      if (item.kind === 'service') serviceRow(el, item); else instanceRow(el, item.id);
    }
  }

  function cells(el, kind) {
    if (el.dataset.kind !== kind) {
      el.dataset.kind = kind;
      el.className = 'row ' + kind;
      el.textContent = '';
      for (const c of ['c-name', 'c-status', 'c-weight num', 'c-inflight', 'c-rps num', 'c-err num',
        'c-p50 num', 'c-p99 num', 'c-ej num', 'c-spark', 'c-act']) {
        const span = document.createElement('span');
        span.className = c;
        el.appendChild(span);
      }
    }
    return el.children;
  }

  function serviceRow(el, item) {
    const c = cells(el, 'service');
    el.dataset.id = '';
    el.dataset.service = item.name;
    const s = state.services.get(item.name);
    let inFlight = 0, rps = 0;
    const by = {};
    for (const i of state.byService.get(item.name) || []) {
      const row = state.rows.get(i.id);
      if (!row) continue;
      inFlight += row[F_INFLIGHT];
      rps += row[F_RPS];
      for (const [k, n] of Object.entries(row[F_INFLIGHT_BY])) by[k] = (by[k] || 0) + n;
    }
    setName(c[0], item.name, s ? s.strategy + ' · ' + routes(s) : 'no definition', '');
    text(c[1], item.count + (item.count === 1 ? ' instance' : ' instances'));
    text(c[2], '');
    inFlightCell(c[3], inFlight, by);
    text(c[4], fmtRate(rps));
    for (const k of [5, 6, 7, 8, 9, 10]) text(c[k], '');
  }

  function routes(s) {
    if (!s.routes || s.routes.length === 0) return 'no route';
    return s.routes.map((r) => {
      const parts = [];
      if (r.hosts) parts.push(r.hosts.join(','));
      parts.push(r.pathPrefix || '/');
      if (r.methods) parts.push(r.methods.join(','));
      if (r.headers) parts.push(Object.entries(r.headers).map(([k, v]) => k + ':' + v).join(','));
      return parts.join(' ');
    }).join(' | ') + (s.tcpPort ? ' | tcp ' + s.tcpPort : '');
  }

  function instanceRow(el, id) {
    const c = cells(el, 'instance');
    el.dataset.id = id;
    const i = state.instances.get(id);
    const row = state.rows.get(id) || [0, {}, 0, {}, 0, null, null, 0, []];
    const status = statusOf(i);
    el.dataset.status = status;
    setName(c[0], id, i.host + ':' + i.port, '');
    badge(c[1], status, row[F_EJ_BY]);
    weightCell(c[2], i);
    inFlightCell(c[3], row[F_INFLIGHT], row[F_INFLIGHT_BY]);
    text(c[4], fmtRate(row[F_RPS]), row[F_RPS] === 0 ? 'zero' : '', shares(row[F_RPS_BY], fmtRate));
    c[4].dataset.rps = String(row[F_RPS]);
    const err = row[F_ERR];
    text(c[5], row[F_P50] === null && err === 0 ? '–' : (err * 100).toFixed(err < 0.01 ? 2 : 1) + '%', err >= 0.05 ? 'bad' : err >= 0.01 ? 'warn' : err === 0 ? 'zero' : '');
    text(c[6], fmtMs(row[F_P50]));
    text(c[7], fmtMs(row[F_P99]), row[F_P99] !== null && row[F_P99] >= 1000 ? 'warn' : '');
    text(c[8], String(row[F_EJ]), row[F_EJ] > 0 ? 'warn' : 'zero');
    sparkline(c[9], state.spark.get(id), row[F_RPS]);
    actions(c[10], i);
  }

  function setName(cell, main, sub) {
    if (cell.dataset.v === main + '\u0000' + sub) return;
    cell.dataset.v = main + '\u0000' + sub;
    cell.textContent = main;
    const small = document.createElement('small');
    small.textContent = sub;
    cell.appendChild(small);
    cell.title = main + ' ' + sub;
  }

  function text(cell, value, cls, title) {
    if (cell.textContent !== value) cell.textContent = value;
    const want = cell.className.split(' ')[0] + (cell.className.includes(' num') ? ' num' : '') + (cls ? ' ' + cls : '');
    if (cell.className !== want) cell.className = want;
    cell.title = title || '';
  }

  function badge(cell, status, ejectedBy) {
    let b = cell.firstChild;
    if (!b) { b = document.createElement('span'); cell.appendChild(b); }
    b.className = 'badge ' + status;
    b.textContent = status;
    cell.title = status === 'ejected' ? 'ejected by ' + ejectedBy.length + ' of ' + state.balancers.length + ' balancers: ' + ejectedBy.map((k) => short(member(k))).join(', ') : '';
  }

  function inFlightCell(cell, total, by) {
    cell.className = 'c-inflight inflight';
    if (!cell.firstChild) {
      cell.appendChild(document.createElement('b'));
      const bar = document.createElement('span'); bar.className = 'bar'; cell.appendChild(bar);
      const sh = document.createElement('span'); sh.className = 'shares'; cell.appendChild(sh);
    }
    const [b, bar, sh] = cell.children;
    b.textContent = String(total);
    b.className = total === 0 ? 'zero' : '';
    cell.dataset.inflight = String(total);
    const entries = Object.entries(by).filter(([, n]) => n > 0).map(([k, n]) => [member(k), n]);
    cell.dataset.byBalancer = JSON.stringify(Object.fromEntries(entries));
    const scale = Math.max(total, 10);
    bar.textContent = '';
    for (const [member, n] of entries) {
      const seg = document.createElement('i');
      seg.style.width = (100 * n / scale) + '%';
      seg.style.background = state.colors.get(member) || '#888';
      bar.appendChild(seg);
    }
    sh.textContent = entries.length > 1 ? entries.map(([, n]) => n).join('+') : '';
    cell.title = entries.length ? entries.map(([m, n]) => 'balancer ' + short(m) + ': ' + n).join('\n') : 'nothing in flight';
  }

  function shares(by, fmt) {
    return Object.entries(by).map(([k, v]) => 'balancer ' + short(member(k)) + ': ' + fmt(v)).join('\n');
  }

  // A balancer's member id from its key in rows ('?' until the balancers list names it).
  function member(key) { return state.members.get(key) || '?' + key; }

  function sparkline(cell, series, now) {
    const points = series ? Array.from(series) : new Array(SPARK_POINTS - 1).fill(0);
    points.push(now);
    const key = points.join(',');
    if (cell.dataset.v === key) return;
    cell.dataset.v = key;
    const max = Math.max(...points, 1);
    const w = 120, h = 22;
    const xy = points.map((v, k) => (k * w / (points.length - 1)).toFixed(1) + ',' + (h - 1 - v / max * (h - 3)).toFixed(1));
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    const area = document.createElementNS(ns, 'path');
    area.setAttribute('d', 'M0,' + h + ' L' + xy.join(' L') + ' L' + w + ',' + h + ' Z');
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', xy.join(' '));
    svg.appendChild(area);
    svg.appendChild(line);
    cell.textContent = '';
    cell.appendChild(svg);
    cell.title = 'peak ' + fmtRate(max) + ' req/s over 5 min';
  }

  // ---- actions: drain, weight (they need the token) ----

  function weightCell(cell, instance) {
    if (cell.querySelector('input')) return; // being edited
    let b = cell.firstChild;
    if (!b || b.tagName !== 'BUTTON') {
      cell.textContent = '';
      b = document.createElement('button');
      b.className = 'ghost weight';
      b.style.borderColor = 'transparent';
      b.title = 'change the weight (needs the API token)';
      b.addEventListener('click', () => editWeight(cell, cell.closest('.row').dataset.id));
      cell.appendChild(b);
    }
    b.textContent = String(instance.weight);
  }

  function editWeight(cell, id) {
    if (!token()) { askToken('Enter the API token to change a weight.'); return; }
    const i = state.instances.get(id);
    const input = document.createElement('input');
    input.type = 'number'; input.min = '0'; input.max = '1000'; input.value = String(i.weight);
    input.className = 'weight-edit';
    cell.textContent = '';
    cell.appendChild(input);
    input.focus();
    input.select();
    const done = () => { cell.textContent = ''; schedule(); };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') done();
      if (e.key !== 'Enter') return;
      const weight = Number(input.value);
      done();
      call('PATCH', '/v1/services/' + enc(i.service) + '/instances/' + enc(id), { weight },
        'weight of ' + id + ' set to ' + weight);
    });
    input.addEventListener('blur', done);
  }

  function actions(cell, instance) {
    let drain = cell.querySelector('button.drain');
    if (!drain) {
      cell.textContent = '';
      drain = document.createElement('button');
      drain.className = 'drain danger';
      drain.type = 'button';
      drain.addEventListener('click', () => onDrain(drain, cell.closest('.row').dataset.id));
      cell.appendChild(drain);
    }
    const draining = instance.status === 'draining';
    drain.disabled = draining;
    if (!drain.classList.contains('armed')) drain.textContent = draining ? 'draining' : 'drain';
    drain.title = draining ? 'removed after its drain timeout' : 'no new requests; removed after the service\'s drain timeout (needs the API token)';
  }

  // Two clicks, no dialog: the first arms the button for 3 s, the second drains.
  function onDrain(button, id) {
    if (!token()) { askToken('Enter the API token to drain an instance.'); return; }
    if (!button.classList.contains('armed')) {
      button.classList.add('armed');
      button.textContent = 'confirm';
      setTimeout(() => { button.classList.remove('armed'); schedule(); }, 3000);
      return;
    }
    button.classList.remove('armed');
    const i = state.instances.get(id);
    call('DELETE', '/v1/services/' + enc(i.service) + '/instances/' + enc(id), null, id + ' is draining');
  }

  async function call(method, path, body, success) {
    try {
      const response = await fetch(path, {
        method,
        headers: Object.assign({ authorization: 'Bearer ' + token() }, body ? { 'content-type': 'application/json' } : {}),
        body: body ? JSON.stringify(body) : undefined,
      });
      if (response.ok) { toast(success); return; }
      let detail = response.status + ' ' + response.statusText;
      try { const p = await response.json(); detail = p.detail || detail; } catch (e) { /* not JSON */ }
      if (response.status === 401) { localStorage.removeItem(TOKEN_KEY); renderToken(); askToken('The token was refused: ' + detail); return; }
      toast(detail, true);
    } catch (e) {
      toast('the registry did not answer: ' + e.message, true);
    }
  }

  function token() { return localStorage.getItem(TOKEN_KEY); }

  function askToken(note) {
    $('token-form').hidden = false;
    if (note) $('token-note').textContent = note;
    $('token-input').focus();
  }

  function renderToken() {
    $('token-button').textContent = token() ? 'Token set · forget it' : 'Read-only · enter API token';
  }

  $('token-button').addEventListener('click', () => {
    if (token()) { localStorage.removeItem(TOKEN_KEY); renderToken(); toast('token forgotten: read-only'); } else askToken();
  });
  $('token-cancel').addEventListener('click', () => { $('token-form').hidden = true; });
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('token-input').value.trim();
    if (!value) return;
    localStorage.setItem(TOKEN_KEY, value);
    $('token-input').value = '';
    $('token-form').hidden = true;
    renderToken();
    toast('token set: actions enabled');
  });

  let toastTimer;
  function toast(message, error) {
    const t = $('toast');
    t.textContent = message;
    t.className = 'toast' + (error ? ' error' : '');
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, error ? 6000 : 2500);
  }

  // ---- header, balancers, timeline ----

  function renderTotals() {
    let rps = 0, inFlight = 0;
    const counts = {};
    for (const i of state.instances.values()) {
      const s = statusOf(i);
      counts[s] = (counts[s] || 0) + 1;
    }
    for (const row of state.rows.values()) { rps += row[F_RPS]; inFlight += row[F_INFLIGHT]; }
    const parts = [
      ['services', state.services.size], ['instances', state.instances.size],
      ['req/s', fmtRate(rps)], ['in flight', inFlight.toLocaleString('en-US')],
    ];
    const el = $('totals');
    el.textContent = '';
    for (const [label, value] of parts) {
      const span = document.createElement('span');
      const b = document.createElement('b'); b.textContent = String(value);
      span.appendChild(b); span.append(' ' + label);
      el.appendChild(span);
    }
    const statuses = document.createElement('span');
    statuses.textContent = ['healthy', 'starting', 'unhealthy', 'draining', 'ejected']
      .filter((s) => counts[s]).map((s) => counts[s] + ' ' + s).join(' · ');
    el.appendChild(statuses);
  }

  function renderBalancers() {
    const el = $('balancers');
    el.textContent = '';
    if (state.balancers.length === 0) {
      el.textContent = 'No balancer has reported yet.';
      el.className = 'balancers muted';
      return;
    }
    el.className = 'balancers';
    for (const b of state.balancers) {
      const card = document.createElement('div');
      card.className = 'balancer';
      card.dataset.member = b.member;
      card.style.setProperty('--c', state.colors.get(b.member));
      card.title = 'member ' + b.member + (b.address ? ' at ' + b.address : '');
      const name = document.createElement('div');
      name.textContent = 'balancer ' + short(b.member) + (b.address ? ' · ' + b.address : '');
      const figures = document.createElement('div');
      for (const [value, label] of [[b.connections, 'connections'], [fmtRate(b.requestsPerSecond), 'req/s'], [b.inFlight, 'in flight']]) {
        const v = document.createElement('b'); v.textContent = String(value);
        figures.append(v, ' ' + label + '  ');
      }
      card.append(name, figures);
      el.appendChild(card);
    }
  }

  function renderTimeline() {
    const el = $('timeline');
    el.textContent = '';
    for (const entry of state.timeline) {
      const li = document.createElement('li');
      li.className = entry.event.endsWith('removed') ? 'removed' : 'stored';
      const time = document.createElement('time');
      time.textContent = new Date(entry.at).toLocaleTimeString();
      li.append(time, entry.summary);
      el.appendChild(li);
    }
  }

  function renderLive() {
    const age = (Date.now() - state.lastTick) / 1000;
    const live = $('live');
    live.textContent = state.lastTick === 0 ? 'connecting…' : age < 1.5 ? 'live' : 'no figures for ' + age.toFixed(0) + ' s';
    live.classList.toggle('stale', state.lastTick === 0 || age >= 1.5);
  }
  setInterval(renderLive, 500);

  // ---- formatting ----

  function short(member) { return member ? member.slice(0, 8) : '?'; }
  function enc(s) { return encodeURIComponent(s); }
  function fmtRate(v) { return v >= 10000 ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v === 0 ? '0' : v.toFixed(2); }
  function fmtMs(v) { return v === null || v === undefined ? '–' : v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v >= 10 ? v.toFixed(0) + ' ms' : v.toFixed(1) + ' ms'; }

  let filterTimer;
  $('filter').addEventListener('input', (e) => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => { state.filter = e.target.value; state.dirtyList = true; schedule(); }, 80);
  });
  viewport.addEventListener('scroll', schedule, { passive: true });
  window.addEventListener('resize', schedule);

  renderToken();
  connect();
})();
