// A topic: its partitions (offsets, lease, segments) and its settings, which can be changed here.
import { api } from './api.js';
import { bytes, count, h, showStatus, table, time } from './format.js';

const SETTINGS = [
  ['retentionMs', 'retention.ms (-1 forever)'],
  ['retentionBytes', 'retention.bytes (-1 unlimited)'],
  ['segmentBytes', 'segment.bytes'],
  ['maxMessageBytes', 'max.message.bytes'],
];

export async function renderTopic(main, name) {
  const topic = await api.topic(name);
  const partitions = h('section', {});
  const status = h('div', { id: 'settings-status', class: 'status' });
  const inputs = Object.fromEntries(
    SETTINGS.map(([key]) => [key, h('input', { name: key, type: 'number', step: 1, value: topic.config[key] })]),
  );
  const save = async (event) => {
    event.preventDefault();
    const changed = {};
    for (const [key] of SETTINGS) {
      const value = Number(inputs[key].value);
      if (value !== topic.config[key]) changed[key] = value;
    }
    try {
      const updated = await api.alterTopic(name, changed);
      Object.assign(topic, updated);
      showStatus(status, true, `saved: ${Object.keys(changed).join(', ') || 'nothing changed'}`);
    } catch (error) {
      showStatus(status, false, `${error.code}: ${error.message}`);
    }
  };
  const settings = h(
    'section',
    {},
    h('h2', {}, 'Settings'),
    h(
      'form',
      { id: 'settings', onsubmit: save },
      SETTINGS.map(([key, label]) => h('label', {}, label, inputs[key])),
      h('button', { type: 'submit' }, 'Save'),
    ),
    status,
  );
  partitions.append(
    h('h2', {}, `Partitions (${topic.partitions.length})`),
    table(
      'partitions',
      [
        ['Partition', (p) => p.partition, true],
        ['Log start', (p) => count(p.logStartOffset), true],
        ['High watermark', (p) => count(p.highWatermark), true],
        ['Lease holder', (p) => (p.leaderAgentId === '' ? '-' : `${p.leaderAgentId} (${p.leaderAddress})`)],
        ['Epoch', (p) => p.leaseEpoch, true],
        ['Segments', (p) => count(p.segments), true],
        ['Size', (p) => bytes(p.bytes), true],
      ],
      topic.partitions,
    ),
  );
  main.append(
    h('h1', {}, `Topic ${topic.name}`),
    h(
      'p',
      { class: 'muted' },
      `created ${time(topic.createdAtMs)} · `,
      h('a', { id: 'browse', href: `#/topics/${encodeURIComponent(name)}/messages` }, 'Browse messages'),
    ),
    partitions,
    settings,
  );
}
