import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createAgentLogger } from '../../src/cli/agentLogger.js';

describe('agent logger', () => {
  it('censors secret fields at the top level and nested, and keeps the rest', () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const logger = createAgentLogger('info', sink);
    logger.info(
      {
        password: 'p1',
        user: 'alice',
        request: { authorization: 'Bearer t0k', topic: 't' },
        s3: { cfg: { token: 'x' } },
      },
      'event',
    );
    const { time: _time, pid: _pid, hostname: _host, ...line } = lines[0]!;
    expect(line).to.deep.equal({
      level: 30,
      component: 'agent',
      password: '[redacted]',
      user: 'alice',
      request: { authorization: '[redacted]', topic: 't' },
      s3: { cfg: { token: '[redacted]' } },
      msg: 'event',
    });
  });
});
