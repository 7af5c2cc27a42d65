// Formatting of times, durations and names for display. Pure functions.

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  timeZoneName: 'short',
});
const hourOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** "23 Nov 2026, 10:04:31 UTC" in the reader's time zone; '' for nothing. */
export function formatTime(iso) {
  if (!iso) return '';
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? String(iso) : dateTime.format(t);
}

/** "10:00" in the reader's time zone. */
export function formatHour(iso) {
  return hourOnly.format(new Date(iso));
}

/** Whole seconds split into days, hours, minutes and seconds. */
function split(seconds) {
  let rest = seconds;
  const days = Math.floor(rest / 86400);
  rest -= days * 86400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  return { days, hours, minutes, secs: rest - minutes * 60 };
}

const two = (n) => String(n).padStart(2, '0');

/** A duration in seconds as "2 h 05 min", "4 min 12 s", "12 s". */
export function formatDuration(seconds) {
  const { days, hours, minutes, secs } = split(Math.max(0, Math.round(seconds)));
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${two(minutes)} min`;
  if (minutes > 0) return `${minutes} min ${two(secs)} s`;
  return `${secs} s`;
}

/** A countdown with seconds always shown: "1 d 02 h 03 min 04 s", "29 min 58 s". */
export function formatCountdown(seconds) {
  const { days, hours, minutes, secs } = split(Math.max(0, Math.floor(seconds)));
  if (days > 0) return `${days} d ${two(hours)} h ${two(minutes)} min ${two(secs)} s`;
  if (hours > 0) return `${hours} h ${two(minutes)} min ${two(secs)} s`;
  if (minutes > 0) return `${minutes} min ${two(secs)} s`;
  return `${secs} s`;
}

/** "5 min ago" / "in 3 h" relative to `now` (ms). */
export function formatRelative(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const seconds = (t - now) / 1000;
  if (Math.abs(seconds) < 5) return 'just now';
  return seconds < 0 ? `${formatDuration(-seconds)} ago` : `in ${formatDuration(seconds)}`;
}

/** The first and last characters of a long hash: "9f072dc6…a7b898". */
export function shortHash(hex, head = 8, tail = 6) {
  if (!hex || hex.length <= head + tail + 1) return hex ?? '';
  return `${hex.slice(0, head)}…${hex.slice(-tail)}`;
}

/** A scope object {environment: "production"} as "environment production"; '' for the global stop. */
export function scopeText(scope) {
  if (!scope) return '';
  return Object.entries(scope).map(([k, v]) => `${k} ${v}`).join(', ');
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

/** Unix milliseconds (the rollouts' and incidents' times) as an ISO 8601 string; '' for 0 or nothing. */
export function isoOfMillis(ms) {
  return typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : '';
}

/** "10:04:31" in the reader's time zone, from Unix milliseconds. */
export function formatClock(ms) {
  return clock.format(new Date(ms));
}

/**
 * A metric value for reading: integers as they are, others to four
 * significant digits ("0.002", "0.05263", "1830.5"); unbounded values
 * ("+Inf", "-Inf") as ±∞; null as "no value".
 */
export function formatValue(v) {
  if (v === '+Inf') return '+∞';
  if (v === '-Inf') return '−∞';
  if (typeof v !== 'number' || Number.isNaN(v)) return 'no value';
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 1000) return v.toFixed(1);
  return String(Number(v.toPrecision(4)));
}

/** A percentage of traffic: "10 %", "0.5 %". */
export function formatPercent(p) {
  return `${formatValue(p)} %`;
}

/** A program name such as "rolled_back" or "insufficient_data" as words. */
export function words(name) {
  return String(name ?? '').replaceAll('_', ' ');
}
