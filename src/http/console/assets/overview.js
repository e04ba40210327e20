// Overview: live agents, topics with their records and bytes, and this agent's produce and fetch rates (live charts).
import uPlot from '/console/vendor/uPlot.esm.js';
import { api } from './api.js';
import { bytes, count, duration, h, table } from './format.js';

/** Refresh interval of the overview, ms. */
const REFRESH_MS = 5000;

function chart(title, rates, keys, labels, format) {
  const data = [rates.map((r) => r.at / 1000), ...keys.map((key) => rates.map((r) => r[key]))];
  const colours = ['#2f6fdf', '#e67e22'];
  const options = {
    title,
    width: 540,
    height: 220,
    series: [{}, ...labels.map((label, i) => ({ label, stroke: colours[i], width: 2, value: (_, v) => format(v) }))],
    axes: [{}, { values: (_, ticks) => ticks.map(format), size: 70 }],
  };
  return new uPlot(options, data);
}

export async function renderOverview(main) {
  const agents = h('section', {}, h('h2', {}, 'Agents'));
  const topics = h('section', {}, h('h2', {}, 'Topics'));
  const charts = h('div', { class: 'charts', id: 'rates' });
  const rates = h('section', {}, h('h2', {}, 'Traffic of this agent (per second, last minutes)'), charts);
  main.append(h('h1', {}, 'Overview'), agents, topics, rates);
  let plots = [];
  const draw = async () => {
    const o = await api.overview();
    agents.replaceChildren(
      h('h2', {}, `Agents (${o.agents.length})`),
      table(
        'agents',
        [
          ['Agent', (a) => a.agentId],
          ['Address', (a) => a.address],
          ['Uptime', (a) => duration(a.uptimeMs), true],
          ['Partitions held', (a) => count(a.partitionsHeld), true],
        ],
        o.agents,
      ),
    );
    topics.replaceChildren(
      h('h2', {}, `Topics (${o.topicCount})`),
      table(
        'topics',
        [
          ['Topic', (t) => h('a', { href: `#/topics/${encodeURIComponent(t.name)}` }, t.name)],
          ['Partitions', (t) => count(t.partitions), true],
          ['Records', (t) => count(t.records), true],
          ['Bytes', (t) => bytes(t.bytes), true],
          ['Segments', (t) => count(t.segments), true],
        ],
        o.topics,
        'no topics yet',
      ),
    );
    for (const plot of plots) plot.destroy();
    charts.replaceChildren();
    plots = [
      chart('Records/s', o.rates, ['produceRecordsPerSec', 'fetchRecordsPerSec'], ['produce', 'fetch'], (v) =>
        v === null ? '' : v.toFixed(v < 10 ? 1 : 0),
      ),
      chart('Bytes/s', o.rates, ['produceBytesPerSec', 'fetchBytesPerSec'], ['produce', 'fetch'], (v) =>
        v === null ? '' : bytes(Math.round(v)),
      ),
    ];
    for (const plot of plots) charts.append(plot.root);
    charts.dataset.samples = String(o.rates.length);
  };
  await draw();
  const timer = setInterval(() => draw().catch(() => {}), REFRESH_MS);
  return () => clearInterval(timer);
}
