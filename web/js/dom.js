// Small DOM builders. Text is always set with text nodes, never parsed as
// HTML, so server data cannot inject markup. Event handlers are attached
// with addEventListener (the CSP forbids inline handlers).

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, attrs) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (name === 'style') {
      throw new Error('no style attributes: the CSP forbids them; use a class');
    } else if (name === 'value' || name === 'checked' || name === 'disabled' || name === 'selected') {
      el[name] = value;
      if (name !== 'value' && value === true) el.setAttribute(name, '');
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * h('p', {class: 'note'}, 'text', otherNode) builds an HTML element.
 * Attributes named on<event> with a function value become listeners;
 * strings and numbers among the children become text nodes.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** As h, for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

let uniqueCounter = 0;
/** A document-unique id with the given prefix, for label/aria wiring. */
export function uid(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

/** A labelled form field: returns {wrap, input, label}. */
export function field(label, control, hint) {
  const id = control.id || uid('f');
  control.id = id;
  const parts = [h('label', { for: id }, label)];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', { class: 'hint', id: hintId }, hint));
  }
  const wrap = h('div', { class: control.type === 'checkbox' ? 'field field-check' : 'field' });
  if (control.type === 'checkbox') wrap.append(control, ...parts);
  else wrap.append(...parts, control);
  return { wrap, input: control };
}

/** A <select> with options given as [value, label] pairs or plain strings. */
export function select(attrs, options, selected) {
  const el = h('select', attrs);
  for (const opt of options) {
    const [value, label] = Array.isArray(opt) ? opt : [opt, opt];
    el.append(h('option', { value, selected: value === selected }, label));
  }
  return el;
}

/** A definition list from [term, value] pairs (value: string or node); skips undefined values. */
export function dl(pairs, cls) {
  const el = h('dl', { class: ['facts', cls] });
  for (const [term, value] of pairs) {
    if (value === undefined) continue;
    el.append(h('div', null, h('dt', null, term), h('dd', null, value)));
  }
  return el;
}

/** A table whose wrapper scrolls sideways on narrow screens instead of the page. */
export function table(caption, headers, rows, cls) {
  const head = h('thead', null, h('tr', null, headers.map((t) => h('th', { scope: 'col' }, t))));
  const body = h('tbody', null, rows.map((cells) => h('tr', null, cells.map((c) => h('td', null, c)))));
  const captionEl = caption ? h('caption', { class: 'visually-hidden' }, caption) : null;
  // Focusable, so that a keyboard can scroll it when it is wider than the screen.
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || 'Table' },
    h('table', { class: cls }, captionEl, head, body));
}
