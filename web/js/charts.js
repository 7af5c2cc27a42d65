// Hand-written inline SVG charts for the overview. Each chart is a
// <figure> with a <figcaption>, an <svg role="img"> whose aria-label
// summarises the numbers, a visible legend, and a visually hidden <table>
// with the same numbers for screen readers.

import { h, s, uid } from './dom.js';
import { formatDuration, formatHour, formatTime } from './format.js';

const H = 250;
const M = { top: 12, right: 22, bottom: 34, left: 40 };
const PLOT_H = H - M.top - M.bottom;

/**
 * The drawing's width in SVG units. The SVG scales to its box, so a narrow
 * screen gets a narrower drawing, whose text then shrinks less.
 */
function chartWidth() {
  return window.matchMedia && window.matchMedia('(max-width: 640px)').matches ? 420 : 640;
}

/** A round axis maximum at or above `n` (at least 1), and its tick step. */
function niceScale(n) {
  const max = Math.max(1, n);
  const steps = [1, 2, 5];
  let magnitude = 1;
  for (;;) {
    for (const step of steps) {
      const unit = step * magnitude;
      if (Math.ceil(max / unit) <= 5) return { top: Math.ceil(max / unit) * unit, step: unit };
    }
    magnitude *= 10;
  }
}

/** Horizontal grid lines with their labels. */
function yAxis(top, step, W) {
  const g = s('g', { class: 'axis', 'aria-hidden': 'true' });
  for (let v = 0; v <= top; v += step) {
    const y = M.top + PLOT_H - (v / top) * PLOT_H;
    g.append(
      s('line', { x1: M.left, x2: W - M.right, y1: y, y2: y, class: v === 0 ? 'axis-base' : 'grid' }),
      s('text', { x: M.left - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' }, String(v)));
  }
  return g;
}

/** Diagonal hatching, so that the "deny" series differs by more than its colour. */
function hatchPattern(id, cls) {
  return s('pattern', { id, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
    s('rect', { width: 6, height: 6, class: cls }),
    s('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'hatch-line' }));
}

function legend(series) {
  return h('ul', { class: 'legend' },
    series.map((x) => h('li', null, h('span', { class: ['swatch', x.swatch], 'aria-hidden': 'true' }), x.label)));
}

// Wrapped in a div: a table sizes to its content and ignores the 1px width.
function hiddenTable(caption, headers, rows) {
  return h('div', { class: 'visually-hidden' }, h('table', null,
    h('caption', null, caption),
    h('thead', null, h('tr', null, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', null, c))))))));
}

/**
 * Stacked bars of a list of columns. columns: [{label, tick (string|null),
 * title, values: {key: n}}]; series: [{key, label, cls, swatch}] bottom to
 * top. Returns the <svg>.
 */
function stackedBars(columns, series, ariaLabel, emptyText) {
  const W = chartWidth();
  const PLOT_W = W - M.left - M.right;
  const patternId = uid('hatch');
  const totals = columns.map((c) => series.reduce((n, x) => n + (c.values[x.key] || 0), 0));
  const { top, step } = niceScale(Math.max(0, ...totals));
  const band = PLOT_W / Math.max(1, columns.length);
  const barW = Math.max(2, band * 0.72);
  const stagger = columns.every((c) => c.tick) && band < 56;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H + (stagger ? 12 : 0)}`, role: 'img', 'aria-label': ariaLabel, class: 'chart', preserveAspectRatio: 'xMidYMid meet' },
    s('defs', null, hatchPattern(patternId, 'fill-deny')),
    yAxis(top, step, W));
  const bars = s('g', { class: 'bars' });
  columns.forEach((c, i) => {
    let y = M.top + PLOT_H;
    const x = M.left + i * band + (band - barW) / 2;
    const g = s('g', null, s('title', null, c.title));
    for (const x2 of series) {
      const v = c.values[x2.key] || 0;
      if (v <= 0) continue;
      const hgt = (v / top) * PLOT_H;
      y -= hgt;
      // A hatched series is filled with the pattern (which carries the
      // colour); a class would override the fill attribute.
      g.append(s('rect', x2.hatched ? { x, y, width: barW, height: hgt, fill: `url(#${patternId})` } : { x, y, width: barW, height: hgt, class: x2.cls }));
    }
    bars.append(g);
    if (c.tick) {
      // Labels of narrow bands alternate between two rows so that they do not overlap.
      const row = stagger && i % 2 === 1 ? 14 : 0;
      svg.append(s('text', { x: M.left + i * band + band / 2, y: H - M.bottom + 17 + row, 'text-anchor': 'middle', class: 'tick', 'aria-hidden': 'true' }, c.tick));
    }
  });
  svg.append(bars);
  if (totals.every((t) => t === 0)) {
    svg.append(s('text', { x: M.left + PLOT_W / 2, y: M.top + PLOT_H / 2, 'text-anchor': 'middle', class: 'chart-empty' }, emptyText));
  }
  return svg;
}

const DECISION_SERIES = [
  { key: 'allow', label: 'Allow', cls: 'fill-allow', swatch: 'swatch-allow' },
  { key: 'require_approval', label: 'Require approval', cls: 'fill-approval', swatch: 'swatch-approval' },
  { key: 'deny', label: 'Deny', cls: 'fill-deny', swatch: 'swatch-deny', hatched: true },
];

/** The "Decisions per hour" figure from /v1/stats' decisions_per_hour. */
export function decisionsPerHour(hours) {
  const list = Array.isArray(hours) ? hours : [];
  const every = Math.max(1, Math.ceil(list.length / 8));
  const columns = list.map((x, i) => ({
    tick: (list.length - 1 - i) % every === 0 ? formatHour(x.hour) : null,
    title: `${formatHour(x.hour)}: ${x.allow || 0} allow, ${x.require_approval || 0} require approval, ${x.deny || 0} deny`,
    values: x,
  }));
  const sum = (key) => list.reduce((n, x) => n + (x[key] || 0), 0);
  const totals = list.map((x) => (x.allow || 0) + (x.require_approval || 0) + (x.deny || 0));
  const busiest = totals.length ? totals.indexOf(Math.max(...totals)) : -1;
  const total = sum('allow') + sum('require_approval') + sum('deny');
  let summary = `Decisions per hour over the last ${list.length} hours: ${total} in all, ${sum('allow')} allow, `
    + `${sum('require_approval')} require approval, ${sum('deny')} deny.`;
  if (total > 0) summary += ` Busiest hour ${formatHour(list[busiest].hour)} with ${totals[busiest]}.`;
  const svg = stackedBars(columns, DECISION_SERIES, summary, 'No decisions in this period');
  return h('figure', { class: 'chart-figure' },
    h('figcaption', null, 'Decisions per hour'),
    h('p', { class: 'chart-note' }, `${total} decisions in the last ${list.length} hours, by outcome, in your time zone.`),
    svg,
    legend(DECISION_SERIES),
    hiddenTable(`Decisions per hour, oldest first`, ['Hour starting', 'Allow', 'Require approval', 'Deny'],
      list.map((x) => [formatTime(x.hour), x.allow || 0, x.require_approval || 0, x.deny || 0])));
}

// Latency buckets, on a roughly logarithmic scale, in seconds.
// [from, to, label, short axis label]
const BUCKETS = [
  [0, 60, 'under 1 min', '<1m'],
  [60, 300, '1–5 min', '1–5m'],
  [300, 900, '5–15 min', '5–15m'],
  [900, 1800, '15–30 min', '15–30m'],
  [1800, 3600, '30–60 min', '30–60m'],
  [3600, 7200, '1–2 h', '1–2h'],
  [7200, 14400, '2–4 h', '2–4h'],
  [14400, 86400, '4–24 h', '4–24h'],
  [86400, 7 * 86400, 'over 1 day', '>1d'],
];

const LATENCY_SERIES = [
  { key: 'approved', label: 'Approved', cls: 'fill-allow', swatch: 'swatch-allow' },
  { key: 'other', label: 'Other outcome', cls: 'fill-other', swatch: 'swatch-other' },
  { key: 'rejected', label: 'Rejected or blocked', cls: 'fill-deny', swatch: 'swatch-deny', hatched: true },
];

function bucketOf(seconds) {
  const i = BUCKETS.findIndex(([lo, hi]) => seconds >= lo && seconds < hi);
  return i < 0 ? BUCKETS.length - 1 : i;
}

/** Where `seconds` falls on the bucket axis, as a fractional bucket position. */
function bucketPosition(seconds) {
  const i = bucketOf(seconds);
  const [lo, hi] = BUCKETS[i];
  const a = Math.log(Math.max(lo, 1));
  const b = Math.log(hi);
  const f = seconds <= Math.max(lo, 1) ? 0 : Math.min(1, (Math.log(seconds) - a) / (b - a));
  return i + f;
}

/** The "Approval latency" figure from /v1/stats' approval_latency. */
export function approvalLatency(latency, hours) {
  const finished = Array.isArray(latency && latency.finished) ? latency.finished : [];
  const counts = BUCKETS.map(() => ({ approved: 0, rejected: 0, other: 0 }));
  for (const f of finished) {
    const key = f.state === 'approved' ? 'approved' : f.state === 'rejected' || f.state === 'blocked' ? 'rejected' : 'other';
    counts[bucketOf(Number(f.seconds) || 0)][key] += 1;
  }
  const p50 = latency && typeof latency.p50_seconds === 'number' ? latency.p50_seconds : null;
  const p90 = latency && typeof latency.p90_seconds === 'number' ? latency.p90_seconds : null;
  let summary = `Approval latency of ${finished.length} approval${finished.length === 1 ? '' : 's'} finished in the last ${hours} hours`;
  summary += p50 === null ? '.' : `: median ${formatDuration(p50)}, 90th percentile ${formatDuration(p90 ?? p50)}.`;
  const columns = BUCKETS.map(([, , label, short], i) => ({
    tick: short,
    title: `${label}: ${counts[i].approved} approved, ${counts[i].rejected} rejected or blocked, ${counts[i].other} other`,
    values: counts[i],
  }));
  const svg = stackedBars(columns, LATENCY_SERIES, summary, 'No approval finished in this period');
  // Percentile markers, on the same horizontal scale as the bars.
  const band = (svg.viewBox.baseVal.width - M.left - M.right) / BUCKETS.length;
  for (const [name, value] of [['median', p50], ['p90', p90]]) {
    if (value === null) continue;
    const x = M.left + bucketPosition(value) * band;
    svg.append(s('g', { class: 'marker', 'aria-hidden': 'true' },
      s('line', { x1: x, x2: x, y1: M.top, y2: M.top + PLOT_H, class: 'marker-line' }),
      s('text', { x: x + 4, y: M.top + 10 + (name === 'p90' ? 14 : 0), class: 'marker-label' }, name)));
  }
  const note = p50 === null
    ? `No approval finished in the last ${hours} hours.`
    : `Time from opening to approval, rejection or blocking. Median ${formatDuration(p50)}, 90th percentile ${formatDuration(p90 ?? p50)}.`;
  return h('figure', { class: 'chart-figure' },
    h('figcaption', null, 'Approval latency'),
    h('p', { class: 'chart-note' }, note),
    svg,
    legend(LATENCY_SERIES),
    hiddenTable(`Approval latency: approvals finished in the last ${hours} hours by time taken`,
      ['Time taken', 'Approved', 'Rejected or blocked', 'Other outcome'],
      BUCKETS.map(([, , label], i) => [label, counts[i].approved, counts[i].rejected, counts[i].other])));
}
