// tidewatch dashboard charts: small SVG drawings written for this page (no
// chart library). Every chart is an <svg> sized by its viewBox, so it
// scales with its card; points and bars carry data-index attributes (the
// window's position) for clicks and for tests.

const NS = 'http://www.w3.org/2000/svg';
export const BASELINE = '#4c78a8';
export const TARGET = '#f58518';
export const DRIFT = '#d62728';
export const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#eeca3b',
  '#b279a2', '#ff9da6', '#9d755d', '#bab0ac', '#1f77b4', '#8c564b'];
export const OTHER = '#d0d0d0';

/** An SVG element with attributes and children. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** A number in at most 4 significant digits, as a tick or a tooltip. */
export function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** Round tick values covering [lo, hi]. */
function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => st >= raw);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return out;
}

const W = 900;
const PAD = { left: 56, right: 40, top: 12, bottom: 40 };

/** The frame of an index-based chart: y axis, grid and x labels. */
function frame(svg, labels, y, yTicks, height, slot) {
  const g = s('g', { class: 'axis' });
  for (const t of yTicks) {
    g.append(s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t), class: 'grid' }));
    g.append(s('text', { x: PAD.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, fmt(t)));
  }
  const n = labels.length;
  const every = Math.max(1, Math.ceil(n / 8));
  for (let i = 0; i < n; i += every) {
    g.append(s('text', { x: slot(i), y: height - PAD.bottom + 16, 'text-anchor': 'middle' },
      labels[i]));
  }
  g.append(s('line', {
    x1: PAD.left, x2: W - PAD.right, y1: height - PAD.bottom, y2: height - PAD.bottom,
    class: 'base',
  }));
  svg.append(g);
}

/**
 * A line over windows: `labels` (one per window), `series` ([{name,
 * values, color}]), an optional `threshold` (a number or one per window),
 * `selected` (an index) and `onSelect(i)`. Each point is a
 * <circle class="point" data-index=i>, red where `alarm(i)` holds.
 */
export function lineChart({ labels, series, threshold = null, selected = null, onSelect = null,
  alarm = () => false, height = 260, yMin = null, yMax = null, title = '' }) {
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart line', role: 'img',
    'aria-label': title });
  const n = labels.length;
  const thresholds = threshold === null ? [] : (Array.isArray(threshold) ? threshold
    : new Array(n).fill(threshold));
  const values = series.flatMap((sr) => sr.values).concat(thresholds)
    .filter((v) => v !== null && Number.isFinite(v));
  let lo = yMin ?? Math.min(0, ...values);
  let hi = yMax ?? Math.max(...values, lo + 1e-12);
  if (yMax === null && values.length) hi += (hi - lo) * 0.05;
  if (!(hi > lo)) hi = lo + 1;
  const y = (v) => height - PAD.bottom - ((v - lo) / (hi - lo)) * (height - PAD.top - PAD.bottom);
  const slot = (i) => PAD.left + (n <= 1 ? (W - PAD.left - PAD.right) / 2
    : (i / (n - 1)) * (W - PAD.left - PAD.right));
  frame(svg, labels, y, ticks(lo, hi), height, slot);
  if (thresholds.length) {
    const pts = thresholds.map((t, i) => (t === null ? null : `${slot(i)},${y(t)}`))
      .filter(Boolean);
    if (pts.length === 1) pts.push(`${W - PAD.right},${pts[0].split(',')[1]}`);
    svg.append(s('polyline', { points: pts.join(' '), class: 'threshold' },
      s('title', {}, `threshold ${fmt(thresholds.find((t) => t !== null))}`)));
  }
  if (selected !== null && selected < n) {
    svg.append(s('line', { x1: slot(selected), x2: slot(selected), y1: PAD.top,
      y2: height - PAD.bottom, class: 'cursor' }));
  }
  for (const sr of series) {
    let path = '';
    sr.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      path += `${path && sr.values[i - 1] !== null ? 'L' : 'M'}${slot(i)},${y(v)}`;
    });
    svg.append(s('path', { d: path, fill: 'none', stroke: sr.color, 'stroke-width': 2 }));
  }
  const points = s('g', { class: 'points' });
  for (const sr of series) {
    sr.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      const c = s('circle', {
        cx: slot(i), cy: y(v), r: i === selected ? 6 : (n > 120 ? 3 : 4.5),
        class: `point${i === selected ? ' selected' : ''}`, 'data-index': i,
        fill: alarm(i) ? DRIFT : sr.color,
      }, s('title', {}, `${labels[i]}: ${sr.name} ${fmt(v)}`));
      if (onSelect) c.addEventListener('click', () => onSelect(i));
      points.append(c);
    });
  }
  svg.append(points);
  return svg;
}

/**
 * Stacked bars over windows: `stacks` ([{name, values, color}], values
 * 0..1 per window), `selected`, `onSelect(i)`. Each window is a
 * <g class="bar" data-index=i>.
 */
export function stackedBars({ labels, stacks, selected = null, onSelect = null, height = 260,
  yMax = null, title = '' }) {
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart bars', role: 'img',
    'aria-label': title });
  const n = labels.length;
  const totals = labels.map((_, i) => stacks.reduce((a, st) => a + (st.values[i] ?? 0), 0));
  const hi = yMax ?? Math.max(1e-12, ...totals);
  const y = (v) => height - PAD.bottom - (v / hi) * (height - PAD.top - PAD.bottom);
  const width = (W - PAD.left - PAD.right) / Math.max(n, 1);
  const slot = (i) => PAD.left + (i + 0.5) * width;
  frame(svg, labels, y, ticks(0, hi), height, slot);
  for (let i = 0; i < n; i++) {
    const g = s('g', { class: `bar${i === selected ? ' selected' : ''}`, 'data-index': i });
    let acc = 0;
    for (const st of stacks) {
      const v = st.values[i] ?? 0;
      if (v <= 0) continue;
      g.append(s('rect', {
        x: slot(i) - width * 0.4, width: Math.max(width * 0.8, 0.5),
        y: y(acc + v), height: Math.max(y(acc) - y(acc + v), 0), fill: st.color,
      }, s('title', {}, `${labels[i]}: ${st.name} ${fmt(v)}`)));
      acc += v;
    }
    if (onSelect) g.addEventListener('click', () => onSelect(i));
    svg.append(g);
  }
  return svg;
}

/** A legend: one swatch and name per series. */
export function legend(items) {
  const div = document.createElement('div');
  div.className = 'legend';
  for (const it of items) {
    const span = document.createElement('span');
    const sw = document.createElement('i');
    sw.style.background = it.color;
    span.append(sw, document.createTextNode(it.name));
    div.append(span);
  }
  return div;
}

/**
 * Baseline vs window of a numeric feature: both histograms as densities
 * (share per unit), overlaid, with both kernel density estimates as lines.
 */
export function histogram({ edges, baseline, target, density = null, height = 260 }) {
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart histogram', role: 'img',
    'aria-label': 'distribution' });
  const nb = baseline.reduce((a, b) => a + b, 0) || 1;
  const nt = target.reduce((a, b) => a + b, 0) || 1;
  const dens = (counts, total) => counts.map((c, i) => c / total / ((edges[i + 1] - edges[i]) || 1));
  const db = dens(baseline, nb);
  const dt = dens(target, nt);
  let lo = edges[0];
  let hi = edges[edges.length - 1];
  const all = db.concat(dt);
  if (density) {
    const inside = density.grid.map((x, i) => [x, i]).filter(([x]) => x >= lo && x <= hi);
    for (const [, i] of inside) all.push(density.baseline[i], density.target[i]);
  }
  const top = Math.max(...all.filter(Number.isFinite), 1e-300) * 1.05;
  if (!(hi > lo)) hi = lo + 1;
  const x = (v) => PAD.left + ((v - lo) / (hi - lo)) * (W - PAD.left - PAD.right);
  const y = (v) => height - PAD.bottom - (v / top) * (height - PAD.top - PAD.bottom);
  const g = s('g', { class: 'axis' });
  for (const t of ticks(lo, hi, 8)) {
    g.append(s('text', { x: x(t), y: height - PAD.bottom + 16, 'text-anchor': 'middle' }, fmt(t)));
  }
  for (const t of ticks(0, top, 4)) {
    g.append(s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t), class: 'grid' }));
    g.append(s('text', { x: PAD.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, fmt(t)));
  }
  svg.append(g);
  for (const [d, color, name, counts] of [[db, BASELINE, 'baseline', baseline],
    [dt, TARGET, 'window', target]]) {
    const bars = s('g', { class: `hist ${name}` });
    d.forEach((v, i) => {
      if (!(v > 0)) return;
      bars.append(s('rect', { x: x(edges[i]), width: Math.max(x(edges[i + 1]) - x(edges[i]), 0.5),
        y: y(v), height: y(0) - y(v), fill: color, 'fill-opacity': 0.45 },
      s('title', {}, `${name} [${fmt(edges[i])}, ${fmt(edges[i + 1])}): ${counts[i]} rows`)));
    });
    svg.append(bars);
  }
  if (density) {
    for (const [vals, color, name] of [[density.baseline, BASELINE, 'baseline'],
      [density.target, TARGET, 'window']]) {
      let path = '';
      density.grid.forEach((gx, i) => {
        if (gx < lo || gx > hi || !Number.isFinite(vals[i])) return;
        path += `${path ? 'L' : 'M'}${x(gx)},${y(vals[i])}`;
      });
      svg.append(s('path', { d: path, fill: 'none', stroke: color, 'stroke-width': 2,
        class: `kde ${name}` }));
    }
  }
  return svg;
}

/**
 * Baseline vs window of a categorical feature: each category's share of
 * rows, side by side (missing values and unseen categories included as
 * their own bars).
 */
export function categoryBars({ categories, baseline, target, baselineRows, targetRows,
  height = 260 }) {
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart categories', role: 'img',
    'aria-label': 'distribution' });
  const pb = baseline.map((c) => c / (baselineRows || 1));
  const pt = target.map((c) => c / (targetRows || 1));
  const top = Math.max(...pb, ...pt, 1e-12) * 1.05;
  const n = categories.length;
  const width = (W - PAD.left - PAD.right) / Math.max(n, 1);
  const y = (v) => height - PAD.bottom - (v / top) * (height - PAD.top - PAD.bottom);
  const g = s('g', { class: 'axis' });
  for (const t of ticks(0, top, 4)) {
    g.append(s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t), class: 'grid' }));
    g.append(s('text', { x: PAD.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, fmt(t)));
  }
  const every = Math.max(1, Math.ceil(n / 16));
  categories.forEach((c, i) => {
    if (i % every) return;
    const label = c.length > 14 ? `${c.slice(0, 13)}…` : c;
    g.append(s('text', { x: PAD.left + (i + 0.5) * width, y: height - PAD.bottom + 16,
      'text-anchor': 'middle' }, label));
  });
  svg.append(g);
  categories.forEach((c, i) => {
    const x0 = PAD.left + i * width;
    for (const [p, counts, color, name, k] of [[pb, baseline, BASELINE, 'baseline', 0],
      [pt, target, TARGET, 'window', 1]]) {
      svg.append(s('rect', { x: x0 + width * (0.1 + 0.4 * k), width: width * 0.4, y: y(p[i]),
        height: y(0) - y(p[i]), fill: color, class: `cat ${name}` },
      s('title', {}, `${c}: ${name} ${counts[i]} rows (${fmt(p[i] * 100)}%)`)));
    }
  });
  return svg;
}
