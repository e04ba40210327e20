import { expect } from 'chai';
import { serveCommand, type ServeFlags } from '../../src/cli/serve.js';

/** The flags `serve` would run with, for these arguments (its action replaced). */
async function parsedFlags(args: string[]): Promise<ServeFlags> {
  let flags: ServeFlags | undefined;
  await serveCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action((f: ServeFlags) => {
      flags = f;
    })
    .parseAsync(args, { from: 'user' });
  return flags!;
}

async function parseError(args: string[]): Promise<string> {
  try {
    await parsedFlags(args);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected ${args.join(' ')} to be refused`);
}

describe('cli: serve limit flags', () => {
  it('default to the agent defaults (the request-bytes budget is left to the agent)', async () => {
    const flags = await parsedFlags([]);
    expect({
      maxInflightRequestBytes: flags.maxInflightRequestBytes,
      maxPartitionsPerRequest: flags.maxPartitionsPerRequest,
      maxConnections: flags.maxConnections,
      handshakeTimeoutMs: flags.handshakeTimeoutMs,
      connectionIdleTimeoutMs: flags.connectionIdleTimeoutMs,
      leaseIdleReleaseMs: flags.leaseIdleReleaseMs,
      maxGroupMemberMetadataBytes: flags.maxGroupMemberMetadataBytes,
      maxOffsetMetadataBytes: flags.maxOffsetMetadataBytes,
    }).to.deep.equal({
      maxInflightRequestBytes: undefined,
      maxPartitionsPerRequest: 1000,
      maxConnections: 1024,
      handshakeTimeoutMs: 10_000,
      connectionIdleTimeoutMs: 300_000,
      leaseIdleReleaseMs: 300_000,
      maxGroupMemberMetadataBytes: 1024 * 1024,
      maxOffsetMetadataBytes: 4096,
    });
  });

  it('take the values given', async () => {
    const flags = await parsedFlags([
      '--max-inflight-request-bytes', '134217728', '--max-partitions-per-request', '50', '--max-connections', '10',
      '--handshake-timeout-ms', '500', '--connection-idle-timeout-ms', '0', '--lease-idle-release-ms', '0',
      '--max-group-member-metadata-bytes', '2048', '--max-offset-metadata-bytes', '100',
    ]);
    expect(flags).to.deep.include({
      maxInflightRequestBytes: 134217728, maxPartitionsPerRequest: 50, maxConnections: 10, handshakeTimeoutMs: 500,
      connectionIdleTimeoutMs: 0, leaseIdleReleaseMs: 0, maxGroupMemberMetadataBytes: 2048, maxOffsetMetadataBytes: 100,
    });
  });

  it('refuse values out of range or malformed, naming the flag', async () => {
    expect(await parseError(['--max-connections', '0'])).to.contain("--max-connections must be a decimal integer from 1 to 9007199254740991, got '0'.");
    expect(await parseError(['--max-partitions-per-request', '1e3'])).to.contain("--max-partitions-per-request must be a decimal integer from 1 to 9007199254740991, got '1e3'.");
    expect(await parseError(['--connection-idle-timeout-ms', '-1'])).to.contain("--connection-idle-timeout-ms must be a decimal integer from 0 to 9007199254740991, got '-1'.");
    expect(await parseError(['--port', '65536'])).to.contain("--port must be a decimal integer from 0 to 65535, got '65536'.");
  });
});
