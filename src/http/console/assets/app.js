// The console's pages, chosen by the location hash: #/ overview, #/topics/NAME, #/topics/NAME/messages, #/groups,
// #/groups/ID. Each page renders into <main> and returns a function stopping its refreshes. The header's token
// form sets the bearer token the API calls send (api.js).
import { api, token } from './api.js';
import { h } from './format.js';
import { renderGroup, renderGroups } from './groups.js';
import { renderMessages } from './messages.js';
import { renderOverview } from './overview.js';
import { renderTopic } from './topic.js';

const main = document.getElementById('main');
let stop = () => {};

function route(hash) {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts.length === 0) return () => renderOverview(main);
  if (parts[0] === 'topics' && parts.length === 2) return () => renderTopic(main, parts[1]);
  if (parts[0] === 'topics' && parts.length === 3 && parts[2] === 'messages') {
    return () => renderMessages(main, parts[1], params);
  }
  if (parts[0] === 'groups' && parts.length === 1) return () => renderGroups(main);
  if (parts[0] === 'groups' && parts.length === 2) return () => renderGroup(main, parts[1]);
  return undefined;
}

async function show() {
  stop();
  stop = () => {};
  const page = route(location.hash);
  main.replaceChildren();
  if (page === undefined) {
    main.append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Overview')));
    return;
  }
  try {
    stop = (await page()) ?? (() => {});
  } catch (error) {
    main.replaceChildren(h('h1', {}, 'Error'), h('p', { id: 'page-error', class: 'error' }, error.message));
    if (error.status === 401) main.append(h('p', { id: 'sign-in' }, 'Enter a bearer token above to sign in.'));
  }
}

function showAgentId() {
  api.overview().then(
    (o) => {
      document.getElementById('agent-id').textContent = `agent ${o.agentId}`;
    },
    () => {},
  );
}

const tokenInput = document.getElementById('token');
const tokenClear = document.getElementById('token-clear');
const tokenChanged = () => {
  tokenClear.hidden = token.get() === '';
  show();
  showAgentId();
};
document.getElementById('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token.set(tokenInput.value.trim());
  tokenInput.value = '';
  tokenChanged();
});
tokenClear.addEventListener('click', () => {
  token.set('');
  tokenChanged();
});
tokenClear.hidden = token.get() === '';

window.addEventListener('hashchange', show);
show();
showAgentId();
