/** Test support: plain HTTP requests to an agent's HTTP port, and reading values out of its /metrics text. */
import { request as httpRequest } from 'node:http';

export type HttpAnswer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/** One request on a fresh connection. */
export function httpCall(
  address: string,
  path: string,
  options: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host,
        port,
        path,
        method: options.method ?? 'GET',
        headers: {
          ...(options.body !== undefined && options.headers?.['Transfer-Encoding'] === undefined
            ? { 'Content-Length': String(Buffer.byteLength(options.body)) }
            : {}),
          ...options.headers,
        },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * The value of one sample in Prometheus text (`name{a="x",b="y"} 15`), labels given in any order; undefined when
 * the sample is absent.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const got = (match[2] ?? '')
      .split(',')
      .filter((l) => l !== '')
      .sort()
      .join(',');
    if (got === wanted) return Number(match[3]);
  }
  return undefined;
}
