// The message browser: a partition's records from an offset, a timestamp or the latest ones, shown as text, JSON or
// hex; and producing a test record. The form's choices are kept in the location hash.
import { api } from './api.js';
import { h, recordBytes, showStatus, table, time } from './format.js';

export async function renderMessages(main, name, params) {
  const topic = await api.topic(name);
  const field = (key, fallback) => params.get(key) ?? fallback;
  const partition = h(
    'select',
    { name: 'partition' },
    topic.partitions.map((p) =>
      h('option', { value: p.partition, selected: String(p.partition) === field('partition', '0') }, p.partition),
    ),
  );
  const from = h(
    'select',
    { name: 'from' },
    [
      ['latest', 'latest'],
      ['offset', 'offset'],
      ['timestamp', 'timestamp (ms)'],
    ].map(([value, label]) => h('option', { value, selected: value === field('from', 'latest') }, label)),
  );
  const at = h('input', { name: 'at', value: field('at', ''), size: 16 });
  const limit = h('input', { name: 'limit', type: 'number', min: 1, max: 500, value: field('limit', '50') });
  const format = h(
    'select',
    { name: 'format' },
    ['text', 'json', 'hex'].map((value) => h('option', { value, selected: value === field('format', 'text') }, value)),
  );
  const results = h('div', { id: 'results' });
  const load = async () => {
    const query = { limit: limit.value };
    if (from.value === 'offset') query.offset = at.value;
    if (from.value === 'timestamp') query.timestamp = at.value;
    try {
      const page = await api.records(name, partition.value, query);
      results.replaceChildren(
        h(
          'p',
          { id: 'range', class: 'muted' },
          `partition ${page.partition}: offsets ${page.logStartOffset} to ${page.highWatermark}; ` +
            `showing ${page.records.length} from ${page.startOffset}`,
        ),
        table(
          'records',
          [
            ['Offset', (r) => r.offset, true],
            ['Timestamp', (r) => time(r.timestamp)],
            ['Key', (r) => h('pre', {}, recordBytes(r.key, format.value))],
            ['Value', (r) => h('pre', {}, recordBytes(r.value, format.value))],
            [
              'Headers',
              (r) => h('pre', {}, r.headers.map((x) => `${x.key}: ${recordBytes(x.value, format.value)}`).join('\n')),
            ],
          ],
          page.records,
          'no records',
        ),
      );
    } catch (error) {
      results.replaceChildren(h('p', { id: 'records-error', class: 'error' }, `${error.code}: ${error.message}`));
    }
  };
  const submit = (event) => {
    event.preventDefault();
    const query = new URLSearchParams({
      partition: partition.value,
      from: from.value,
      at: at.value,
      limit: limit.value,
      format: format.value,
    });
    const hash = `#/topics/${encodeURIComponent(name)}/messages?${query}`;
    if (location.hash === hash) load();
    else location.hash = hash;
  };
  const key = h('input', { name: 'key', size: 14 });
  const value = h('textarea', { name: 'value', rows: 2, cols: 40 });
  const headers = h('input', { name: 'headers', size: 24, placeholder: 'name=value, …' });
  const produced = h('div', { id: 'produce-status', class: 'status' });
  const produce = async (event) => {
    event.preventDefault();
    const record = { key: key.value === '' ? null : key.value, value: value.value, partition: Number(partition.value) };
    if (headers.value.trim() !== '') {
      record.headers = Object.fromEntries(
        headers.value.split(',').map((pair) => {
          const cut = pair.indexOf('=');
          return cut < 0 ? [pair.trim(), null] : [pair.slice(0, cut).trim(), pair.slice(cut + 1).trim()];
        }),
      );
    }
    try {
      const at = await api.produce(name, record);
      showStatus(produced, true, `produced to partition ${at.partition} at offset ${at.offset}`);
      await load();
    } catch (error) {
      showStatus(produced, false, `${error.code}: ${error.message}`);
    }
  };
  main.append(
    h('h1', {}, h('a', { href: `#/topics/${encodeURIComponent(name)}` }, name), ' · messages'),
    h(
      'section',
      {},
      h(
        'form',
        { id: 'browse', onsubmit: submit },
        h('label', {}, 'partition', partition),
        h('label', {}, 'from', from),
        h('label', {}, 'offset or timestamp', at),
        h('label', {}, 'limit', limit),
        h('label', {}, 'show values as', format),
        h('button', { type: 'submit' }, 'Read'),
      ),
    ),
    h('section', {}, results),
    h(
      'section',
      {},
      h('h2', {}, 'Produce a test record (to the partition chosen above)'),
      h(
        'form',
        { id: 'produce', onsubmit: produce },
        h('label', {}, 'key', key),
        h('label', {}, 'value', value),
        h('label', {}, 'headers', headers),
        h('button', { type: 'submit' }, 'Send'),
      ),
      produced,
    ),
  );
  format.addEventListener('change', () => load());
  await load();
}
