/**
 * `import 'streamhouse'` is the client alone: it loads no agent, storage or
 * metadata code and none of their heavy dependencies (SQLite, the AWS SDK,
 * ioredis), and exports a small, deliberate set of names.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** The module URLs a fresh process resolves while importing `entry`. */
async function modulesLoadedBy(entry: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sh-trace-'));
  try {
    const file = join(dir, 'modules.txt');
    await run(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './spec/support/moduleTrace/register.mjs',
        '-e',
        `await import(${JSON.stringify(entry)})`,
      ],
      {
        cwd: root,
        env: { ...process.env, MODULE_TRACE_FILE: file },
      },
    );
    return (await readFile(file, 'utf8')).trim().split('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the client entry point', function () {
  this.timeout(30_000);

  it('loads only client and protocol code, and no SQLite, AWS SDK, ioredis, pino or prom-client', async () => {
    const loaded = await modulesLoadedBy('./src/index.ts');
    const ours = loaded.filter((url) => url.includes('/src/')).map((url) => url.replace(/^.*\/src\//, ''));
    expect(ours).to.include('client/producer/producer.ts');
    expect(ours).to.include('client/consumer/consumer.ts');
    const parts = new Set(ours.map((path) => path.split('/')[0]));
    expect([...parts].sort()).to.deep.equal(['client', 'index.ts', 'protocol']);
    const packages = new Set(
      loaded
        .filter((url) => url.includes('/node_modules/'))
        .map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)![1]),
    );
    for (const heavy of ['better-sqlite3', '@aws-sdk/client-s3', 'ioredis', 'pino', 'commander', 'prom-client']) {
      expect(packages.has(heavy), heavy).to.equal(false);
    }
  });

  it('streamhouse/metrics loads prom-client and client code only', async () => {
    const loaded = await modulesLoadedBy('./src/client/metrics/index.ts');
    const ours = loaded.filter((url) => url.includes('/src/')).map((url) => url.replace(/^.*\/src\//, ''));
    expect(ours).to.include('client/metrics/registerClientMetrics.ts');
    expect([...new Set(ours.map((path) => path.split('/')[0]))].sort()).to.deep.equal(['client', 'protocol']);
    expect(loaded.some((url) => url.includes('/node_modules/prom-client/'))).to.equal(true);
  });

  it('exports the client API and nothing of the server', async () => {
    const api = await import('../src/index.js');
    const names = Object.keys(api);
    for (const name of [
      'createProducer',
      'createConsumer',
      'produceTo',
      'SendResult',
      'linger',
      'connectAgent',
      'StreamHouseError',
      'NotLeaderError',
      'MemoryOffsetStore',
      'rangeAssignor',
    ]) {
      expect(names, name).to.include(name);
    }
    for (const name of [
      'startAgent',
      'SqliteMetadataStore',
      'S3ObjectStore',
      'LruCache',
      'encodeRecordBatch',
      'ProduceRequest',
      'BASE_OFFSET_OFFSET',
    ]) {
      expect(names, name).to.not.include(name);
    }
    expect(names.length).to.be.lessThan(90);
  });
});
