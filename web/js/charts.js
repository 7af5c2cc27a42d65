// Hand-written inline SVG charts for the overview and the rollouts. Each chart is a
// <figure> with a <figcaption>, an <svg role="img"> whose aria-label
// summarises the numbers, a visible legend, and a visually hidden <table>
// with the same numbers for screen readers.

import { h, s, uid } from './dom.js';
import { formatClock, formatDuration, formatHour, formatTime, formatValue, isoOfMillis } from './format.js';

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

// ---------------------------------------------------------------- a metric over time

// The metric chart's margins: its axis labels are decimals ("0.005").
const ML = { top: 14, right: 22, bottom: 34, left: 60 };

/** An axis from the lowest to the highest of `values` (0 included) in round steps. */
function linearScale(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  const lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * magnitude).find((x) => x >= raw * (1 - 1e-9));
  const bottom = Math.floor(lo / step + 1e-9) * step;
  const top = Math.ceil(hi / step - 1e-9) * step;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return { bottom, top, step, count: Math.round((top - bottom) / step), label: (v) => (v === 0 ? '0' : v.toFixed(decimals)) };
}

/** Whether `value op threshold` holds (the condition language's comparisons). */
function compares(value, op, threshold) {
  switch (op) {
    case '>': return value > threshold;
    case '>=': return value >= threshold;
    case '<': return value < threshold;
    case '<=': return value <= threshold;
    case '==': return value === threshold;
    case '!=': return value !== threshold;
    default: return false;
  }
}

/** "rollback_when fails when > 0.05" / "promote_when passes when < 0.005". */
function thresholdText(t) {
  return `${t.check} ${t.criterion ? 'passes' : 'fails'} when ${t.op} ${formatValue(t.value)}`;
}

/**
 * The chart of one metric's values over time against the thresholds its
 * checks compare it with:
 *   name:       the metric's name (the caption)
 *   canary:     [[unix ms, value], ...] oldest first
 *   baseline:   the same for the baseline, or []
 *   thresholds: [{check, criterion (bool), op, value}]
 *   note:       optional sentence under the caption
 * A canary point that crosses a trigger's threshold is drawn larger, in red.
 */
export function metricChart({ name, canary, baseline = [], thresholds = [], note }) {
  const W = chartWidth();
  const PLOT_W = W - ML.left - ML.right;
  const PLOT_H2 = H - ML.top - ML.bottom;
  const points = [...canary, ...baseline];
  const times = points.map(([at]) => at);
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (!points.length) t0 = t1 = Date.now();
  if (t1 - t0 < 1000) {
    t0 -= 30000;
    t1 += 30000;
  }
  const scale = linearScale([...points.map(([, v]) => v), ...thresholds.map((t) => t.value)]);
  const x = (at) => ML.left + ((at - t0) / (t1 - t0)) * PLOT_W;
  const y = (v) => ML.top + PLOT_H2 - ((v - scale.bottom) / (scale.top - scale.bottom)) * PLOT_H2;
  const over = (v) => thresholds.some((t) => !t.criterion && compares(v, t.op, t.value));

  const latest = canary.length ? canary[canary.length - 1][1] : null;
  let summary = `${name}: `;
  summary += canary.length
    ? `${canary.length} value${canary.length === 1 ? '' : 's'} from ${formatClock(canary[0][0])} to ${formatClock(canary[canary.length - 1][0])}, latest ${formatValue(latest)}`
    : 'no value kept';
  if (baseline.length) summary += `; baseline latest ${formatValue(baseline[baseline.length - 1][1])}`;
  summary += '.';
  for (const t of thresholds) {
    const crossed = latest !== null && compares(latest, t.op, t.value);
    summary += ` ${thresholdText(t)}: the latest value ${crossed ? 'meets' : 'does not meet'} it.`;
  }

  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary, class: 'chart', preserveAspectRatio: 'xMidYMid meet' });
  const axis = s('g', { class: 'axis', 'aria-hidden': 'true' });
  for (let i = 0; i <= scale.count; i += 1) {
    const v = scale.bottom + i * scale.step;
    axis.append(
      s('line', { x1: ML.left, x2: W - ML.right, y1: y(v), y2: y(v), class: Math.abs(v) < scale.step / 1e6 ? 'axis-base' : 'grid' }),
      s('text', { x: ML.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, scale.label(v)));
  }
  const ticks = points.length ? 4 : 0;
  for (let i = 0; i < ticks; i += 1) {
    const at = t0 + ((t1 - t0) * i) / (ticks - 1);
    axis.append(s('text', { x: x(at), y: H - ML.bottom + 18, 'text-anchor': i === 0 ? 'start' : i === ticks - 1 ? 'end' : 'middle', class: 'tick' }, formatClock(at)));
  }
  svg.append(axis);

  thresholds.forEach((t, i) => {
    const ty = y(t.value);
    svg.append(s('g', { class: 'marker', 'aria-hidden': 'true' },
      s('line', { x1: ML.left, x2: W - ML.right, y1: ty, y2: ty, class: t.criterion ? 'criterion-line' : 'threshold-line' }),
      s('text', { x: W - ML.right - 4, y: ty + (ty < ML.top + 16 ? 14 : -5) + (i % 2) * (ty < ML.top + 16 ? 14 : -14), 'text-anchor': 'end', class: 'marker-label' },
        `${t.check} ${t.op} ${formatValue(t.value)}`)));
  });

  const series = (list, cls, pointCls) => {
    const g = s('g', { class: cls });
    if (list.length > 1) g.append(s('polyline', { points: list.map(([at, v]) => `${x(at)},${y(v)}`).join(' '), class: 'series-line' }));
    for (const [at, v] of list) {
      const bad = pointCls === 'point' && over(v);
      g.append(s('circle', { cx: x(at), cy: y(v), r: bad ? 6 : 4, class: bad ? 'point point-over' : pointCls },
        s('title', null, `${formatClock(at)}: ${formatValue(v)}${bad ? ' (crosses a trigger threshold)' : ''}`)));
    }
    return g;
  };
  if (baseline.length) svg.append(series(baseline, 'series series-baseline', 'point-baseline'));
  svg.append(series(canary, 'series series-canary', 'point'));
  if (!canary.length) {
    svg.append(s('text', { x: ML.left + PLOT_W / 2, y: ML.top + PLOT_H2 / 2, 'text-anchor': 'middle', class: 'chart-empty' }, 'No value kept'));
  }

  const keys = [{ label: 'Canary', swatch: 'swatch-canary' }];
  if (baseline.length) keys.push({ label: 'Baseline', swatch: 'swatch-baseline' });
  if (thresholds.some((t) => !t.criterion)) keys.push({ label: 'Trigger threshold', swatch: 'swatch-threshold' });
  if (thresholds.some((t) => t.criterion)) keys.push({ label: 'Promotion threshold', swatch: 'swatch-criterion' });

  const byTime = new Map();
  for (const [at, v] of canary) byTime.set(at, [formatValue(v), '']);
  for (const [at, v] of baseline) byTime.set(at, [(byTime.get(at) || [''])[0], formatValue(v)]);
  const rows = [...byTime.entries()].sort((a, b) => a[0] - b[0])
    .map(([at, [c, b]]) => [formatTime(isoOfMillis(at)), c, b]);
  const limits = thresholds.length ? `${thresholds.map(thresholdText).join('; ')}.` : 'No check compares this metric with a threshold.';
  return h('figure', { class: 'chart-figure' },
    h('figcaption', null, name),
    h('p', { class: 'chart-note' }, note ? `${note} ` : '', limits),
    svg,
    legend(keys),
    hiddenTable(`${name}, oldest first`, ['Time', 'Canary', 'Baseline'], rows));
}
