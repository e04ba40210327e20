// Calls of the console's JSON API; a refusal throws an Error carrying the API's typed error (code, status).
// A bearer token given on the page is kept in sessionStorage (this tab only) and sent on every call.

const TOKEN_KEY = 'streamhouse.token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value) => (value === '' ? sessionStorage.removeItem(TOKEN_KEY) : sessionStorage.setItem(TOKEN_KEY, value)),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, body) {
  const init = { method, headers: {} };
  const bearer = token.get();
  if (bearer !== '') init.headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/api${path}`, init);
  const answer = await response.json();
  if (!response.ok) throw new ApiError(response.status, answer.error?.code ?? 'UNKNOWN', answer.error?.message ?? '');
  return answer;
}

const part = (text) => encodeURIComponent(text);

export const api = {
  overview: () => call('GET', '/overview'),
  topic: (name) => call('GET', `/topics/${part(name)}`),
  alterTopic: (name, config) => call('PUT', `/topics/${part(name)}/config`, config),
  records: (name, partition, query) =>
    call('GET', `/topics/${part(name)}/partitions/${partition}/records?${new URLSearchParams(query)}`),
  produce: (name, record) => call('POST', `/topics/${part(name)}/records`, record),
  groups: () => call('GET', '/groups'),
  group: (id) => call('GET', `/groups/${part(id)}`),
  resetOffsets: (id, target) => call('POST', `/groups/${part(id)}/reset-offsets`, target),
};
