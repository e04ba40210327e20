// Building the DOM (text only, never markup from data) and formatting numbers, bytes, times and record bytes.

/** An element with attributes (`on*` are listeners) and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A table; `columns` are [header, cell(row), numeric?]. */
export function table(id, columns, rows, empty = 'none') {
  if (rows.length === 0) return h('p', { id, class: 'muted' }, empty);
  return h(
    'table',
    { id },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map(([title, , num]) => h('th', { class: num ? 'num' : undefined }, title)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          {},
          columns.map(([, cell, num]) => h('td', { class: num ? 'num' : undefined }, cell(row))),
        ),
      ),
    ),
  );
}

export const count = (n) => n.toLocaleString('en-US');

export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export const time = (ms) => new Date(ms).toISOString();

function hex(base64) {
  const raw = atob(base64);
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    out += `${raw.charCodeAt(i).toString(16).padStart(2, '0')}${i % 16 === 15 ? '\n' : ' '}`;
  }
  return out.trimEnd();
}

/** Record bytes `{text, base64}` as text, pretty JSON (text when not JSON) or hex; null as `null`. */
export function recordBytes(value, format) {
  if (value === null) return 'null';
  if (format === 'hex' || value.text === null) return hex(value.base64);
  if (format === 'json') {
    try {
      return JSON.stringify(JSON.parse(value.text), null, 2);
    } catch {
      return value.text;
    }
  }
  return value.text;
}

/** A status line showing an outcome or an API error. */
export function showStatus(element, ok, text) {
  element.className = `status ${ok ? 'ok' : 'error'}`;
  element.textContent = text;
}
