// Consumer groups: the list, and one group's members, assignments, committed offsets and lag, with a reset of the
// offsets of an empty group.
import { api } from './api.js';
import { count, h, showStatus, table, time } from './format.js';

export async function renderGroups(main) {
  const { groups } = await api.groups();
  main.append(
    h('h1', {}, 'Consumer groups'),
    h(
      'section',
      {},
      table(
        'groups',
        [
          ['Group', (g) => h('a', { href: `#/groups/${encodeURIComponent(g.groupId)}` }, g.groupId)],
          ['State', (g) => g.state],
          ['Members', (g) => g.members, true],
        ],
        groups,
        'no consumer groups',
      ),
    ),
  );
}

function assignment(member) {
  if (member.assignment === null) return '(not in the consumer format)';
  return member.assignment.map((a) => `${a.topic}: ${a.partitions.join(', ')}`).join('; ') || '-';
}

export async function renderGroup(main, id) {
  const body = h('div', {});
  const draw = async () => {
    const group = await api.group(id);
    body.replaceChildren(
      h(
        'p',
        { id: 'group-state' },
        `${group.state}, generation ${group.generation}, ${group.members.length} member(s)` +
          (group.protocolName ? `, protocol ${group.protocolName}` : '') +
          `, total lag ${count(group.totalLag)}`,
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Members'),
        table(
          'members',
          [
            ['Member', (m) => m.memberId + (m.memberId === group.leaderId ? ' (leader)' : '')],
            ['Client', (m) => m.clientId],
            ['Assignment', assignment],
            ['Last heartbeat', (m) => time(m.lastHeartbeatMs)],
          ],
          group.members,
          'no members: the group is empty',
        ),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Committed offsets'),
        table(
          'offsets',
          [
            ['Topic', (o) => o.topic],
            ['Partition', (o) => o.partition, true],
            ['Committed', (o) => count(o.committed), true],
            ['High watermark', (o) => count(o.highWatermark), true],
            ['Lag', (o) => count(o.lag), true],
          ],
          group.offsets,
          'no committed offsets',
        ),
      ),
    );
  };
  const to = h(
    'select',
    { name: 'to' },
    ['earliest', 'latest', 'offset', 'timestamp'].map((value) => h('option', { value }, value)),
  );
  const value = h('input', { name: 'value', size: 16, placeholder: 'offset or timestamp (ms)' });
  const topic = h('input', { name: 'topic', size: 14, placeholder: 'every topic' });
  const status = h('div', { id: 'reset-status', class: 'status' });
  const reset = async (event) => {
    event.preventDefault();
    const target = { to: to.value };
    if (to.value === 'offset') target.offset = Number(value.value);
    if (to.value === 'timestamp') target.timestampMs = Number(value.value);
    if (topic.value !== '') target.topic = topic.value;
    try {
      const { offsets } = await api.resetOffsets(id, target);
      showStatus(status, true, `reset ${offsets.map((o) => `${o.topic}/${o.partition} → ${o.offset}`).join(', ')}`);
      await draw();
    } catch (error) {
      showStatus(status, false, `${error.code}: ${error.message}`);
    }
  };
  main.append(
    h('h1', {}, `Group ${id}`),
    body,
    h(
      'section',
      {},
      h('h2', {}, 'Reset offsets (only while the group has no members)'),
      h(
        'form',
        { id: 'reset', onsubmit: reset },
        h('label', {}, 'to', to),
        h('label', {}, 'offset / timestamp', value),
        h('label', {}, 'topic', topic),
        h('button', { type: 'submit' }, 'Reset'),
      ),
      status,
    ),
  );
  await draw();
}
