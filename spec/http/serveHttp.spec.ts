/**
 * `streamhouse serve` serves metrics and health on --http-port and says where
 * in its banner; --no-http serves none; a bad port is refused.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServeProcess, runCli } from '../cli/cliSupport.js';
import { httpCall } from './support.js';

describe('http: serve --http-port', function () {
  this.timeout(90_000);
  let dataDir: string;
  const running: ServeProcess[] = [];
  const serve = async (args: string[]) => {
    const started = await ServeProcess.start([
      '--port',
      '0',
      '--no-kafka',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      ...args,
    ]);
    running.push(started);
    return started;
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sh-http-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the metrics and health addresses and serves them', async () => {
    const agent = await serve(['--http-port', '0']);
    const lines = agent.stdout.split('\n');
    const metrics = /^ {2}metrics: {2}http:\/\/(127\.0\.0\.1:\d+)\/metrics \(Prometheus\)$/.exec(lines[4]!);
    expect(metrics, agent.stdout).not.to.equal(null);
    const address = metrics![1]!;
    expect(lines[3]).to.equal(`  console:  http://${address}/`);
    expect(lines[5]).to.equal(
      `  health:   http://${address}/healthz, http://${address}/readyz, gRPC grpc.health.v1.Health`,
    );
    expect((await httpCall(address, '/readyz')).status).to.equal(200);
    const text = (await httpCall(address, '/metrics')).body;
    expect(text).to.contain('# TYPE streamhouse_produce_records_total counter');
    expect((await agent.stop('SIGTERM')).code).to.equal(0);
  });

  it('serves no HTTP with --no-http', async () => {
    const agent = await serve(['--no-http']);
    expect(agent.stdout).not.to.contain('metrics:');
  });

  it('refuses a port out of range', async () => {
    const result = await runCli(['serve', '--http-port', '70000', '--data-dir', dataDir, '--log-level', 'silent']);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('--http-port');
  });
});
