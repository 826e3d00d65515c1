// tidewatch dashboard: a single page over the REST API (/api/v1), routed
// by the URL's path: / (monitors), /monitors/NAME (?run=ID&feature=F for
// a window and a feature, the link alerts carry), /services. The
// token typed at login is kept in this tab's sessionStorage and sent as a
// bearer token; every text from the server is set as text, never as HTML.

import {
  lineChart, stackedBars, histogram, categoryBars, legend, fmt,
  PALETTE, OTHER, BASELINE, TARGET,
} from './charts.js';

const TOKEN_KEY = 'tidewatch-token';
const TOP_FEATURES = 10;

/** An HTML element with attributes, event handlers (on*) and children. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.error;
    super(e ? e.message : `HTTP ${status}`);
    this.status = status;
  }
}

/** A call to the API with the session's token; the JSON answer. */
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(json && json.error ? json.error.message : 'please sign in');
    throw new ApiError(401, json);
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

const enc = encodeURIComponent;
const main = () => document.getElementById('page');
const day = (t) => (t ? t.slice(0, 10) : '–');
const when = (t) => (t ? t.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC') : '–');

function badge(text, kind) {
  return h('span', { class: `badge ${kind}` }, text);
}

function failure(err) {
  return h('p', { class: 'error', role: 'alert' }, err.message || String(err));
}

// ---------------------------------------------------------------- login --

function showLogin(message) {
  document.body.classList.add('signed-out');
  const page = main();
  page.replaceChildren(h('form', { id: 'login', class: 'card login', onsubmit: login },
    h('h2', {}, 'Sign in'),
    h('p', {}, 'A tidewatch token (created with ', h('code', {}, 'tidewatch token create'),
      '): read tokens see everything, admin tokens may also run, backfill, enable and disable.'),
    h('label', {}, 'Token ', h('input', { id: 'token', type: 'password', autocomplete: 'off',
      required: true, size: 60 })),
    h('button', { type: 'submit' }, 'Sign in'),
    message ? h('p', { class: 'error', role: 'alert' }, message) : null));
}

async function login(event) {
  event.preventDefault();
  const token = document.getElementById('token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    await api('GET', '/overview');
  } catch {
    return;
  }
  document.body.classList.remove('signed-out');
  route();
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin('signed out');
}

// ------------------------------------------------------------- monitors --

async function monitorsPage() {
  const page = main();
  page.replaceChildren(h('h2', {}, 'Monitors'), h('p', { class: 'muted' }, 'loading…'));
  const data = await api('GET', '/overview');
  const rows = data.monitors.flatMap((m) => {
    const latest = m.latest.length ? m.latest : [null];
    return latest.map((l) => h('tr', { 'data-monitor': m.name },
      h('td', {}, h('a', { href: `/monitors/${enc(m.name)}` }, m.name)),
      h('td', {}, badge(m.state, m.state)),
      h('td', {}, l && l.service ? l.service : (m.services.length ? '–' : '')),
      h('td', {}, m.frequency),
      h('td', {}, l ? `${day(l.window_start)} → ${day(l.window_end)}` : 'no window yet'),
      h('td', { class: 'num' }, l ? fmt(l.drift_coefficient) : '–'),
      h('td', { class: 'num' }, fmt(m.threshold)),
      h('td', {}, l ? (l.has_drift ? badge('drift', 'drift') : badge('no drift', 'ok')) : ''),
      h('td', {}, m.next_run_at ? when(m.next_run_at) : '–'),
      h('td', {}, ['queued', 'running', 'failed']
        .filter((st) => m.runs[st]).map((st) => `${m.runs[st]} ${st}`).join(', ') || '–')));
  });
  page.replaceChildren(h('h2', {}, 'Monitors'),
    data.monitors.length === 0
      ? h('p', {}, 'No monitors yet: create one with ', h('code', {}, 'tidewatch monitor create'), '.')
      : h('table', { id: 'monitors', class: 'table' },
        h('thead', {}, h('tr', {}, ['Monitor', 'State', 'Service', 'Frequency', 'Last window',
          'Coefficient', 'Threshold', '', 'Next run', 'Runs'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)));
}

// -------------------------------------------------------------- monitor --

const EVERY = { day: 'daily', week: 'weekly', month: 'monthly' };

/** What the monitor page shows; kept across its redraws. */
const view = {
  name: null, service: null, from: '', to: '', selected: null, feature: null, metric: null,
  series: null, poll: null, wanted: null,
};

async function monitorPage(name, run = null, feature = null) {
  if (view.name !== name) {
    Object.assign(view, { name, service: null, from: '', to: '', selected: null, feature: null,
      metric: null, series: null });
  }
  view.wanted = run === null ? null : Number(run);
  if (feature) view.feature = feature;
  const page = main();
  page.replaceChildren(h('p', { class: 'muted' }, 'loading…'));
  const monitor = await api('GET', `/monitors/${enc(name)}`);
  const spec = monitor.spec;
  const message = h('p', { id: 'message', class: 'message', role: 'status' });
  const act = (label, fn) => h('button', { type: 'button', onclick: async () => {
    try { message.textContent = await fn(); message.className = 'message ok'; }
    catch (e) { message.textContent = e.message; message.className = 'message error'; }
  } }, label);
  const header = h('div', { class: 'title' },
    h('h2', {}, spec.name), badge(monitor.state, monitor.state),
    h('span', { class: 'muted' }, `${EVERY[spec.frequency] ?? spec.frequency} · latency ${spec.latency_hours} h · `
      + `threshold ${fmt(spec.threshold)} · `
      + (spec.model ? `model ${spec.model.name} ${spec.model.version} · services ${(spec.services || []).join(', ')}`
        : `baseline ${spec.baseline} v${spec.baseline_version ?? ''} · target ${spec.target}`)),
    h('span', { class: 'spacer' }),
    monitor.state === 'enabled'
      ? act('Disable', async () => { await api('POST', `/monitors/${enc(name)}/disable`); route(); return 'disabled'; })
      : act('Enable', async () => { await api('POST', `/monitors/${enc(name)}/enable`); route(); return 'enabled'; }),
    act('Cancel queued runs', async () => {
      const r = await api('POST', `/monitors/${enc(name)}/cancel`);
      refreshRuns();
      return `${r.cancelled} queued runs cancelled`;
    }));

  const range = h('form', { class: 'range', onsubmit: (e) => {
    e.preventDefault();
    view.from = range.elements.from.value;
    view.to = range.elements.to.value;
    view.selected = null;
    drawSeries();
  } },
  h('label', {}, 'From ', h('input', { name: 'from', type: 'date', value: view.from })),
  h('label', {}, 'To ', h('input', { name: 'to', type: 'date', value: view.to })),
  h('button', { type: 'submit' }, 'Show'));

  const runForm = h('form', { id: 'run-form', class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const r = await api('POST', `/monitors/${enc(name)}/runs`, { date: runForm.elements.date.value });
      message.textContent = `run ${r.id} queued for ${day(r.window.start)} → ${day(r.window.end)}`;
      message.className = 'message ok';
      refreshRuns();
    } catch (err) { message.textContent = err.message; message.className = 'message error'; }
  } }, h('label', {}, 'Run the window of ', h('input', { name: 'date', type: 'date', required: true })),
  h('button', { type: 'submit' }, 'Run'));

  const backfillForm = h('form', { id: 'backfill-form', class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const r = await api('POST', `/monitors/${enc(name)}/backfill`,
        { from: backfillForm.elements.from.value, to: backfillForm.elements.to.value });
      message.textContent = `${r.runs.length} backfill runs queued`;
      message.className = 'message ok';
      refreshRuns();
    } catch (err) { message.textContent = err.message; message.className = 'message error'; }
  } }, h('label', {}, 'Backfill from ', h('input', { name: 'from', type: 'date', required: true })),
  h('label', {}, ' to ', h('input', { name: 'to', type: 'date', required: true })),
  h('button', { type: 'submit' }, 'Backfill'));

  page.replaceChildren(header, message,
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h3', {}, 'Drift coefficient'),
      h('span', { id: 'service-choice' }), range), h('div', { id: 'trend' })),
    h('section', { class: 'card' }, h('h3', {}, 'Contribution by feature'), h('div', { id: 'contributions' })),
    h('section', { class: 'card', id: 'details' }, h('h3', {}, 'Window details'),
      h('p', { class: 'muted' }, 'Click a window of either chart to see its features.')),
    h('section', { class: 'card' }, h('h3', {}, 'Runs'), runForm, backfillForm, h('div', { id: 'runs' })),
    h('section', { class: 'card' }, h('h3', {}, 'Alerts'), h('div', { id: 'alerts' })));
  await Promise.all([drawSeries(), refreshRuns(), drawAlerts()]);
}

function seriesQuery(extra = {}) {
  const q = new URLSearchParams();
  if (view.from) q.set('from', view.from);
  if (view.to) q.set('to', view.to);
  if (view.service) q.set('service', view.service);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const text = q.toString();
  return `/monitors/${enc(view.name)}/series${text ? `?${text}` : ''}`;
}

async function drawSeries() {
  const trend = document.getElementById('trend');
  const contributions = document.getElementById('contributions');
  let data;
  try {
    data = await api('GET', seriesQuery());
  } catch (e) {
    if (e.status === 400 && /service/.test(e.message) && !view.service) {
      // A monitor made from a model with several services: draw the first.
      const all = await api('GET', `/monitors/${enc(view.name)}`);
      const first = (all.spec.services || [])[0];
      if (first) {
        view.service = first;
        return drawSeries();
      }
    }
    trend.replaceChildren(failure(e));
    return;
  }
  view.series = data;
  view.service = data.service;
  const choice = document.getElementById('service-choice');
  choice.replaceChildren(data.services.length > 1 ? h('label', {}, 'Service ',
    h('select', { id: 'service', onchange: (e) => { view.service = e.target.value; view.selected = null; drawSeries(); } },
      data.services.map((sv) => h('option', { value: sv, selected: sv === view.service }, sv)))) : '');
  const w = data.windows;
  const n = w.run_id.length;
  if (n === 0) {
    trend.replaceChildren(h('p', { class: 'muted', id: 'no-windows' },
      'No window has results in this range yet: run a date or backfill a range below.'));
    contributions.replaceChildren();
    return;
  }
  const labels = w.window_start.map(day);
  const select = (i) => { view.selected = i; drawCharts(); showWindow(i); remember(); };
  const drawCharts = () => {
    trend.replaceChildren(lineChart({
      labels, title: 'drift coefficient per window',
      series: [{ name: 'drift coefficient', values: w.drift_coefficient, color: BASELINE }],
      threshold: w.threshold, selected: view.selected, onSelect: select, yMin: 0,
      yMax: Math.max(1e-9, ...w.drift_coefficient.filter((v) => v !== null), ...w.threshold) * 1.1,
      alarm: (i) => w.has_drift[i] === true,
    }), h('p', { class: 'muted' }, `${n} windows · `,
      `${w.has_drift.filter((d) => d).length} above the threshold (red) · dashed line: threshold`));
    const top = data.features.slice(0, TOP_FEATURES);
    const stacks = top.map((f, k) => ({ name: f, values: data.contributions[k], color: PALETTE[k % PALETTE.length] }));
    if (data.features.length > TOP_FEATURES) {
      const rest = labels.map((_, i) => data.contributions.slice(TOP_FEATURES)
        .reduce((a, c) => a + (c[i] ?? 0), 0));
      stacks.push({ name: `${data.features.length - TOP_FEATURES} other features`, values: rest, color: OTHER });
    }
    contributions.replaceChildren(stackedBars({ labels, stacks, selected: view.selected, onSelect: select,
      title: 'contribution by feature per window' }), legend(stacks));
  };
  if (view.wanted !== null && view.wanted !== undefined) {
    // A window named in the address (an alert's link): its run, or, for a
    // newer run of the same window, that window.
    const k = w.run_id.indexOf(view.wanted);
    view.selected = k >= 0 ? k : view.selected;
    if (k < 0) {
      try {
        const run = await api('GET', `/runs/${view.wanted}`);
        const j = w.window_start.indexOf(run.window.start);
        if (j >= 0) view.selected = j;
      } catch { /* an unknown run: nothing selected */ }
    }
    view.wanted = null;
  }
  drawCharts();
  if (view.selected !== null && view.selected < n) showWindow(view.selected);
}

async function showWindow(i) {
  const data = view.series;
  const w = data.windows;
  const details = document.getElementById('details');
  const runId = w.run_id[i];
  details.replaceChildren(h('h3', {}, 'Window details'), h('p', { class: 'muted' }, 'loading…'));
  let result;
  try {
    result = await api('GET', `/monitors/${enc(view.name)}/results?run=${runId}`);
  } catch (e) { details.replaceChildren(h('h3', {}, 'Window details'), failure(e)); return; }
  const win = result.windows[0];
  const ds = win.metrics.dataset || {};
  const features = Object.entries(win.metrics.features || {})
    .sort((a, b) => (b[1].contribution ?? 0) - (a[1].contribution ?? 0));
  if (!view.feature || !win.metrics.features[view.feature]) view.feature = features.length ? features[0][0] : null;
  const table = h('table', { id: 'features', class: 'table' },
    h('thead', {}, h('tr', {}, ['Feature', 'Kind', 'Contribution', 'Method', 'Score', 'Threshold',
      'Drifted', 'Missing rate change'].map((t) => h('th', {}, t)))),
    h('tbody', {}, features.map(([fname, f]) => h('tr', {
      'data-feature': fname, class: fname === view.feature ? 'selected' : '',
      onclick: () => { view.feature = fname; remember(); showWindow(i); },
    }, h('td', {}, fname), h('td', {}, f.kind), h('td', { class: 'num' }, `${fmt((f.contribution ?? 0) * 100)}%`),
    h('td', {}, f.method ?? '–'), h('td', { class: 'num' }, fmt(f.score)),
    h('td', { class: 'num' }, fmt(f.threshold)),
    h('td', {}, f.drift_detected ? badge('drift', 'drift') : badge('no', 'ok')),
    h('td', { class: 'num' }, fmt(f.missing_rate_change))))));
  details.replaceChildren(
    h('h3', {}, `Window ${day(win.window_start)} → ${day(win.window_end)}`),
    h('p', { id: 'window-summary' }, `run ${runId} (${win.kind}) · coefficient ${fmt(win.drift_coefficient)} `
      + `(threshold ${fmt(win.threshold)}) · AUC ${fmt(ds.auc)} · ${ds.drifted_features ?? '–'} of `
      + `${ds.feature_count ?? '–'} features drifted · baseline ${ds.baseline_rows ?? '–'} rows, `
      + `window ${ds.target_rows ?? '–'} rows`),
    table,
    h('div', { id: 'feature-panel' }));
  if (view.feature) await showFeature(i, view.feature);
}

async function showFeature(i, fname) {
  const panel = document.getElementById('feature-panel');
  const runId = view.series.windows.run_id[i];
  let trendData; let report;
  try {
    [trendData, report] = await Promise.all([
      api('GET', seriesQuery({ feature: fname, contributions: 'false' })),
      api('GET', `/runs/${runId}/report?feature=${enc(fname)}`),
    ]);
  } catch (e) { panel.replaceChildren(failure(e)); return; }
  const f = trendData.feature;
  const metrics = Object.keys(f.metrics);
  if (!view.metric || !metrics.includes(view.metric)) view.metric = f.method && metrics.includes(f.method) ? f.method : metrics[0];
  const labels = trendData.windows.window_start.map(day);
  const metricChart = h('div', { id: 'metric-trend' });
  const drawMetric = () => {
    const values = f.metrics[view.metric] || [];
    const isMethod = view.metric === f.method;
    metricChart.replaceChildren(lineChart({
      labels, title: `${fname} ${view.metric}`,
      series: [{ name: view.metric, values, color: TARGET }],
      threshold: isMethod ? f.threshold : null, selected: i,
      alarm: (k) => isMethod && f.drift_detected[k] === true,
      onSelect: (k) => { view.selected = k; drawSeries(); },
    }));
  };
  const picker = h('select', { id: 'metric', onchange: (e) => { view.metric = e.target.value; drawMetric(); } },
    metrics.map((m) => h('option', { value: m, selected: m === view.metric }, m === f.method ? `${m} (deciding)` : m)));
  drawMetric();
  const rf = report.features[0];
  const dist = rf.distribution || {};
  const missing = rf.missing || {};
  let chart;
  if (dist.type === 'numeric' && dist.histogram) {
    chart = histogram({ edges: dist.histogram.edges, baseline: dist.histogram.baseline,
      target: dist.histogram.target, density: dist.density });
  } else if (dist.type === 'categorical') {
    const cats = [...dist.categories];
    const base = [...dist.baseline];
    const targ = [...dist.target];
    if (missing.baseline_count || missing.target_count) {
      cats.push('(missing)'); base.push(missing.baseline_count || 0); targ.push(missing.target_count || 0);
    }
    chart = categoryBars({ categories: cats, baseline: base, target: targ,
      baselineRows: rf.rows[0], targetRows: rf.rows[1] });
  } else {
    chart = h('p', { class: 'muted' }, 'No distribution is drawn for this feature.');
  }
  const notes = [
    `missing: baseline ${fmt((missing.baseline_rate ?? 0) * 100)}%, window ${fmt((missing.target_rate ?? 0) * 100)}%`,
  ];
  if (rf.categories) {
    notes.push(`unseen in the baseline: ${rf.categories.unseen_count} rows (${fmt(rf.categories.unseen_rate * 100)}%)`
      + (rf.categories.unseen_top && rf.categories.unseen_top.length
        ? `, most often ${rf.categories.unseen_top.map((u) => (Array.isArray(u) ? u[0] : (u.value ?? JSON.stringify(u)))).join(', ')}` : ''));
  }
  if (dist.histogram && (dist.histogram.target_underflow || dist.histogram.target_overflow)) {
    notes.push(`window rows outside the baseline's range: ${dist.histogram.target_underflow} below, ${dist.histogram.target_overflow} above`);
  }
  if (rf.note) notes.push(rf.note);
  panel.replaceChildren(
    h('div', { class: 'card-head' }, h('h4', {}, `${fname}: metric per window`), h('label', {}, 'Metric ', picker)),
    metricChart,
    h('h4', {}, `${fname}: baseline vs this window`),
    h('div', { id: 'distribution' }, chart),
    legend([{ name: 'baseline', color: BASELINE }, { name: 'window', color: TARGET }]),
    h('p', { class: 'muted', id: 'distribution-notes' }, notes.join(' · ')));
}

async function refreshRuns() {
  const box = document.getElementById('runs');
  if (!box) return;
  let runs;
  try { runs = await api('GET', `/monitors/${enc(view.name)}/runs`); } catch (e) { box.replaceChildren(failure(e)); return; }
  runs.sort((a, b) => b.id - a.id);
  const active = runs.some((r) => r.state === 'queued' || r.state === 'running');
  const shown = runs.slice(0, 100);
  box.replaceChildren(
    h('p', { class: 'muted' }, `${runs.length} runs`, runs.length > shown.length ? ` (newest ${shown.length} shown)` : '',
      active ? ' · refreshing while runs are queued or running' : ''),
    h('table', { id: 'runs-table', class: 'table' },
      h('thead', {}, h('tr', {}, ['Run', 'Kind', 'Window', 'Service', 'State', 'Took', 'Error'].map((t) => h('th', {}, t)))),
      h('tbody', {}, shown.map((r) => h('tr', { 'data-run': r.id, 'data-state': r.state },
        h('td', {}, String(r.id)), h('td', {}, r.kind),
        h('td', {}, `${day(r.window.start)} → ${day(r.window.end)}`), h('td', {}, r.service ?? ''),
        h('td', {}, badge(r.state, r.state)),
        h('td', { class: 'num' }, r.started_at && r.finished_at
          ? `${fmt((Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000)} s` : ''),
        h('td', { class: 'error-text' }, r.error ?? ''))))));
  clearTimeout(view.poll);
  if (active) {
    view.poll = setTimeout(async () => {
      if (!document.getElementById('runs')) return;
      await refreshRuns();
      const again = document.querySelector('#runs-table tr[data-state="queued"], #runs-table tr[data-state="running"]');
      if (!again) drawSeries();
    }, 1500);
  }
}

async function drawAlerts() {
  const box = document.getElementById('alerts');
  let list;
  try { list = await api('GET', `/monitors/${enc(view.name)}/alerts`); } catch (e) { box.replaceChildren(failure(e)); return; }
  const items = [...list].sort((a, b) => b.id - a.id);
  if (!items.length) {
    box.replaceChildren(h('p', { class: 'muted' }, 'No alert has been sent.'));
    return;
  }
  box.replaceChildren(h('table', { class: 'table', id: 'alerts-table' },
    h('thead', {}, h('tr', {}, ['Window', 'Route', 'State', 'Attempts', 'Last error', 'Queued', 'Sent'].map((t) => h('th', {}, t)))),
    h('tbody', {}, items.slice(0, 100).map((a) => h('tr', {},
      h('td', {}, a.window ? `${day(a.window.start)} → ${day(a.window.end)}` : ''),
      h('td', {}, a.route ? `${a.route.type} ${a.route.to}` : ''),
      h('td', {}, badge(a.state, a.state)), h('td', { class: 'num' }, String(a.attempts ?? 0)),
      h('td', { class: 'error-text' }, a.last_error ?? ''), h('td', {}, when(a.created_at)),
      h('td', {}, a.sent_at ? when(a.sent_at) : ''))))));
}

// ------------------------------------------------------------- services --

async function servicesPage() {
  const page = main();
  page.replaceChildren(h('h2', {}, 'Collected services'), h('p', { class: 'muted' }, 'loading…'));
  const data = await api('GET', '/collected');
  if (!data.services.length) {
    page.replaceChildren(h('h2', {}, 'Collected services'),
      h('p', {}, 'No service has sent inputs yet (POST /api/v1/services/NAME/inputs).'));
    return;
  }
  const cards = data.services.map((sv) => {
    const days = [...new Set(sv.days.map((d) => d.day))].sort().slice(-60);
    const rows = (stream) => days.map((dd) => sv.days.filter((d) => d.day === dd && d.stream === stream)
      .reduce((a, d) => a + d.rows, 0));
    const c = sv.since_start || {};
    return h('section', { class: 'card service', 'data-service': sv.service },
      h('div', { class: 'card-head' }, h('h3', {}, sv.service),
        sv.registered ? h('span', { class: 'muted' }, `model ${sv.model} ${sv.version}`) : badge('not registered', 'disabled')),
      h('p', {}, `last record ${when(sv.last_record_at)} · since the server started: `
        + `${c.batches ?? 0} batches, ${c.rows ?? 0} rows taken; ${c.repeated ?? 0} repeated; `,
      h('span', { class: c.rejected ? 'error-text' : '' }, `${c.rejected ?? 0} rejected`),
      `; ${c.throttled ?? 0} turned away (429)`),
      days.length
        ? [stackedBars({ labels: days, title: 'compacted rows per day', height: 180,
          stacks: [{ name: 'inputs', values: rows('inputs'), color: BASELINE },
            { name: 'predictions', values: rows('predictions'), color: TARGET }] }),
        legend([{ name: 'inputs', color: BASELINE }, { name: 'predictions', color: TARGET }])]
        : h('p', { class: 'muted' }, 'Nothing compacted yet: the collector compacts its log every minute (serve --compact-every).'));
  });
  page.replaceChildren(h('h2', {}, 'Collected services'), ...cards);
}

// ---------------------------------------------------------------- route --

/** Moves to `url` (same origin) and draws it. */
function navigate(url) {
  history.pushState(null, '', url);
  route();
}

/** Keeps the shown window and feature in the address, for a link. */
function remember() {
  if (!view.name || !view.series) return;
  const q = new URLSearchParams();
  if (view.selected !== null) q.set('run', view.series.windows.run_id[view.selected]);
  if (view.feature && view.selected !== null) q.set('feature', view.feature);
  const text = q.toString();
  history.replaceState(null, '', `/monitors/${enc(view.name)}${text ? `?${text}` : ''}`);
}

async function route() {
  if (!sessionStorage.getItem(TOKEN_KEY)) { showLogin(); return; }
  document.body.classList.remove('signed-out');
  const path = location.pathname;
  for (const a of document.querySelectorAll('nav a')) {
    const href = a.getAttribute('href');
    a.classList.toggle('active', path === href || (href === '/' && path.startsWith('/monitors/')));
  }
  try {
    const m = path.match(/^\/monitors\/([^/]+)$/);
    if (m) {
      const params = new URLSearchParams(location.search);
      await monitorPage(decodeURIComponent(m[1]), params.get('run'), params.get('feature'));
    } else if (path === '/services') await servicesPage();
    else await monitorsPage();
  } catch (e) {
    if (e.status !== 401) main().replaceChildren(failure(e));
  }
}

// Links within the page move without reloading it.
document.addEventListener('click', (event) => {
  const a = event.target.closest('a');
  if (!a || a.origin !== location.origin || event.ctrlKey || event.metaKey || event.shiftKey
    || a.target) return;
  event.preventDefault();
  navigate(a.pathname + a.search);
});
window.addEventListener('popstate', route);
document.getElementById('logout').addEventListener('click', logout);
route();
