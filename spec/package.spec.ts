/**
 * The published package: `npm pack` holds dist/, proto/, README and LICENSE
 * only; installed from the tarball into a scratch application (beside its
 * own RxJS, without install scripts, so no native build), a producer and a
 * consumer run from it in TypeScript and in plain ESM JavaScript against a
 * real agent, and the application's TestScheduler drives the package's
 * operators.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  createTestStores,
  deleteRedisPrefix,
  REDIS_URL,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from './support/agentHarness.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const APP_TS = `
import { createConsumer, createProducer, type ConsumerRecord } from 'streamhouse';
import { firstValueFrom, take, toArray } from 'rxjs';

const bootstrap = [process.env['AGENT']!];
const producer = await createProducer({ bootstrap });
const sendOne = async (v: string) => (await producer.send({ topic: 'ts', value: v })).waitOffset();
const offsets = await Promise.all(['a', 'b', 'c'].map(sendOne));
await producer.close();
const consumer = createConsumer({ bootstrap, groupId: 'app-ts', topics: ['ts'], resetStrategy: { type: 'earliest' } });
const read: ConsumerRecord[] = await firstValueFrom(consumer.records$.pipe(take(3), toArray()));
await consumer.close();
console.log(JSON.stringify({ offsets, values: read.map((r) => Buffer.from(r.value!).toString()) }));
`;

const APP_MJS = `
import { createConsumer, createProducer } from 'streamhouse';
import { firstValueFrom, take, toArray } from 'rxjs';

const bootstrap = [process.env.AGENT];
const producer = await createProducer({ bootstrap });
const sendOne = async (v) => (await producer.send({ topic: 'js', value: v })).waitOffset();
const offsets = await Promise.all(['x', 'y'].map(sendOne));
await producer.close();
const consumer = createConsumer({ bootstrap, groupId: 'app-js', topics: ['js'], resetStrategy: { type: 'earliest' } });
const read = await firstValueFrom(consumer.records$.pipe(take(2), toArray()));
await consumer.close();
console.log(JSON.stringify({ offsets, values: read.map((r) => Buffer.from(r.value).toString()) }));
`;

const MARBLE_MJS = `
import { linger } from 'streamhouse';
import { TestScheduler } from 'rxjs/testing';

const scheduler = new TestScheduler((actual, expected) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(JSON.stringify({ actual, expected }));
});
scheduler.run(({ cold, expectObservable }) => {
  // no scheduler passed: the package's timers must be the application's RxJS, virtualised by run()
  const lingered = cold('a b 10ms c|').pipe(linger({ lingerMs: 5, maxCount: 10 }));
  expectObservable(lingered).toBe('5ms x 7ms (y|)', { x: ['a', 'b'], y: ['c'] });
});
console.log('marble ok');
`;

// The installed package's agent serves its web console: every page asset, and uPlot from the installed dependency.
const CONSOLE_MJS = `
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from 'streamhouse/agent';
import { LocalDirectoryObjectStore } from 'streamhouse/storage';
import { RedisMetadataStore } from 'streamhouse/metadata';

const dir = mkdtempSync(join(tmpdir(), 'sh-console-'));
// Installed without scripts, the package has no SQLite binding here.
const metadataStore = new RedisMetadataStore({ url: process.env.REDIS_URL, keyPrefix: process.env.PREFIX });
const agent = await startAgent({
  objectStore: new LocalDirectoryObjectStore({ root: join(dir, 'objects') }),
  metadataStore,
  host: '127.0.0.1',
  port: 0,
  httpPort: 0,
});
const paths = ['/', '/console/app.js', '/console/overview.js', '/console/style.css', '/console/vendor/uPlot.esm.js'];
const answers = [];
for (const path of paths) {
  const response = await fetch('http://' + agent.httpAddress + path);
  answers.push([path, response.status, (await response.text()).length > 0]);
}
await agent.stop();
await metadataStore.close();
console.log(JSON.stringify(answers));
`;

describe('the packed package', function () {
  this.timeout(180_000);
  let app: string;
  let stores: TestStores;
  let agent: TestAgent;
  let packedFiles: string[] = [];

  before(async () => {
    app = await mkdtemp(join(tmpdir(), 'sh-package-'));
    const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', app], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    packedFiles = packed!.files.map((f) => f.path);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run(
      npm,
      [
        'install',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        join(app, packed!.filename),
        'rxjs@7',
      ],
      { cwd: app },
    );
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores);
    for (const name of ['ts', 'js'])
      await agent.connection.client.createTopic({ name, partitions: 1, config: undefined });
  });
  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
    await rm(app, { recursive: true, force: true });
  });

  it('holds dist/, proto/, README.md, LICENSE and package.json only', () => {
    const files = packedFiles;
    const tops = [...new Set(files.map((path) => (path.includes('/') ? `${path.split('/')[0]}/` : path)))].sort();
    expect(tops).to.deep.equal(['LICENSE', 'README.md', 'dist/', 'package.json', 'proto/']);
    expect(files.filter((path) => path.startsWith('dist/') && !path.startsWith('dist/src/'))).to.deep.equal([]);
    expect(files).to.include('dist/src/metadata/redis/lua/commit-segment-5.lua');
    expect(files).to.include('dist/src/agent/index.js');
    expect(files.filter((path) => path.startsWith('dist/src/http/console/assets/')).sort()).to.deep.equal(
      [
        'api.js',
        'app.js',
        'format.js',
        'groups.js',
        'index.html',
        'messages.js',
        'overview.js',
        'style.css',
        'topic.js',
      ].map((name) => `dist/src/http/console/assets/${name}`),
    );
  });

  it('serves the web console from the installed package, uPlot included', async () => {
    await writeFile(join(app, 'console.mjs'), CONSOLE_MJS);
    const prefix = `sh-test:${process.pid}:console-package:`;
    const { stdout } = await run(process.execPath, [join(app, 'console.mjs')], {
      cwd: app,
      env: { ...process.env, REDIS_URL, PREFIX: prefix },
    }).finally(() => deleteRedisPrefix(prefix));
    expect(JSON.parse(stdout)).to.deep.equal([
      ['/', 200, true],
      ['/console/app.js', 200, true],
      ['/console/overview.js', 200, true],
      ['/console/style.css', 200, true],
      ['/console/vendor/uPlot.esm.js', 200, true],
    ]);
  });

  it('runs a producer and a consumer written in TypeScript', async () => {
    await writeFile(join(app, 'app.ts'), APP_TS);
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
          outDir: 'out',
        },
        files: ['app.ts'],
      }),
    );
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app });
    const { stdout } = await run(process.execPath, [join(app, 'out/app.js')], {
      cwd: app,
      env: { ...process.env, AGENT: agent.agent.address },
    });
    expect(JSON.parse(stdout)).to.deep.equal({ offsets: [0, 1, 2], values: ['a', 'b', 'c'] });
  });

  it('runs a producer and a consumer written in plain ESM JavaScript', async () => {
    await writeFile(join(app, 'app.mjs'), APP_MJS);
    const { stdout } = await run(process.execPath, [join(app, 'app.mjs')], {
      cwd: app,
      env: { ...process.env, AGENT: agent.agent.address },
    });
    expect(JSON.parse(stdout)).to.deep.equal({ offsets: [0, 1], values: ['x', 'y'] });
  });

  it("shares the application's RxJS: its TestScheduler virtualises the package's timers", async () => {
    await writeFile(join(app, 'marble.mjs'), MARBLE_MJS);
    const { stdout } = await run(process.execPath, [join(app, 'marble.mjs')], { cwd: app });
    expect(stdout.trim()).to.equal('marble ok');
  });
});
