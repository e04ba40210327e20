/**
 * `streamhouse serve` flags: every default and every environment variable the
 * docs/operations.md's configuration table documents, and strict parsing of booleans.
 */
import { expect } from 'chai';
import { serveCommand, type ServeFlags } from '../../src/cli/serve.js';
import { booleanOption } from '../../src/cli/agentOption.js';

/** Environment variables `serve` reads (docs/operations.md, "Configuration"). */
const SERVE_ENV = [
  'STREAMHOUSE_HOST',
  'STREAMHOUSE_PORT',
  'STREAMHOUSE_DATA_DIR',
  'STREAMHOUSE_OBJECT_STORE',
  'STREAMHOUSE_S3_ENDPOINT',
  'AWS_REGION',
  'STREAMHOUSE_S3_PATH_STYLE',
  'STREAMHOUSE_METADATA',
  'STREAMHOUSE_REDIS_PREFIX',
  'STREAMHOUSE_AGENT_ID',
  'STREAMHOUSE_ADVERTISED_ADDRESS',
  'STREAMHOUSE_FLUSH_INTERVAL_MS',
  'STREAMHOUSE_FLUSH_BYTES',
  'STREAMHOUSE_LEASE_TTL_MS',
  'STREAMHOUSE_MAX_REQUEST_BYTES',
  'STREAMHOUSE_SEGMENT_CACHE_BYTES',
  'STREAMHOUSE_MAINTENANCE_INTERVAL_MS',
  'STREAMHOUSE_HEAP_GROWING_PERCENT',
  'STREAMHOUSE_LOG_LEVEL',
  'STREAMHOUSE_TLS_CERT',
  'STREAMHOUSE_TLS_KEY',
  'STREAMHOUSE_TLS_CA',
  'STREAMHOUSE_TLS_CLIENT_AUTH',
  'STREAMHOUSE_AUTHORIZER',
  'STREAMHOUSE_SUPERUSERS',
  'STREAMHOUSE_ACL_REFRESH_MS',
  'STREAMHOUSE_MAX_GROUP_MEMBERS',
  'STREAMHOUSE_KAFKA_AUTO_CREATE_PARTITIONS',
];

/** The flags `serve` would run with for these arguments and exactly this environment (its action replaced). */
async function parsedFlags(args: string[], env: Record<string, string> = {}): Promise<ServeFlags> {
  // Every variable serve may read, listed or not, is cleared and put back: none may leak into later specs.
  const names = new Set([...SERVE_ENV, ...Object.keys(process.env).filter((n) => n.startsWith('STREAMHOUSE_'))]);
  for (const name of Object.keys(env)) names.add(name);
  const saved = new Map([...names].map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  Object.assign(process.env, env);
  try {
    let flags: ServeFlags | undefined;
    await serveCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => undefined })
      .action((f: ServeFlags) => {
        flags = f;
      })
      .parseAsync(args, { from: 'user' });
    return flags!;
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The message a parse fails with. */
async function parseError(args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    await parsedFlags(args, env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the flags to be refused');
}

describe('cli/serve flags', () => {
  it('defaults to the values docs/operations.md documents', async () => {
    expect({ ...(await parsedFlags([])) }).to.deep.equal({
      host: '127.0.0.1',
      port: 9660,
      dataDir: './data',
      redisPrefix: 'streamhouse:',
      wal: true,
      flushIntervalMs: 1,
      flushBytes: 4 * 1024 * 1024,
      leaseTtlMs: 10_000,
      maxRequestBytes: 64 * 1024 * 1024,
      maxDecompressedBatchBytes: 32 * 1024 * 1024,
      maxTimestampAheadMs: 3_600_000,
      producerIdExpirationMs: 86_400_000,
      kafka: true,
      kafkaPort: 9092,
      kafkaAutoCreatePartitions: 0,
      http: true,
      httpPort: 9644,
      maxPartitionsPerRequest: 1000,
      maxConnections: 1024,
      handshakeTimeoutMs: 10_000,
      connectionIdleTimeoutMs: 300_000,
      leaseIdleReleaseMs: 300_000,
      maxGroupMemberMetadataBytes: 1024 * 1024,
      maxGroupMembers: 1000,
      maxOffsetMetadataBytes: 4096,
      maxConnectionsPerAddress: 128,
      maxLongPolls: 1000,
      maxTopics: 10_000,
      maxPartitionsPerTopic: 1000,
      produceQuota: 0,
      fetchQuota: 0,
      maintenanceIntervalMs: 30_000,
      heapGrowingPercent: 400,
      storageRetryTimeoutMs: 30_000,
      storageFailureHoldMs: 5000,
      shutdownTimeoutMs: 10_000,
      startupTimeoutMs: 30_000,
      logLevel: 'info',
      authorizer: 'none',
      aclRefreshMs: 1000,
      auth: 'off',
    });
  });

  it('reads every flag from its documented environment variable', async () => {
    const flags = await parsedFlags([], {
      STREAMHOUSE_HOST: '0.0.0.0',
      STREAMHOUSE_PORT: '0',
      STREAMHOUSE_DATA_DIR: '/var/lib/sh',
      STREAMHOUSE_OBJECT_STORE: 's3://bucket/prefix',
      STREAMHOUSE_S3_ENDPOINT: 'http://127.0.0.1:9000',
      AWS_REGION: 'eu-west-1',
      STREAMHOUSE_S3_PATH_STYLE: 'true',
      STREAMHOUSE_METADATA: 'redis://127.0.0.1:6379/0',
      STREAMHOUSE_REDIS_PREFIX: 'sh:',
      STREAMHOUSE_AGENT_ID: 'agent-7',
      STREAMHOUSE_ADVERTISED_ADDRESS: 'sh.example:9660',
      STREAMHOUSE_FLUSH_INTERVAL_MS: '7',
      STREAMHOUSE_FLUSH_BYTES: '1024',
      STREAMHOUSE_LEASE_TTL_MS: '3000',
      STREAMHOUSE_MAX_REQUEST_BYTES: '2048',
      STREAMHOUSE_SEGMENT_CACHE_BYTES: '4096',
      STREAMHOUSE_MAINTENANCE_INTERVAL_MS: '0',
      STREAMHOUSE_HEAP_GROWING_PERCENT: '0',
      STREAMHOUSE_LOG_LEVEL: 'warn',
      STREAMHOUSE_HTTP_PORT: '9700',
      STREAMHOUSE_AUTHORIZER: 'acl',
      STREAMHOUSE_SUPERUSERS: 'root,ops',
      STREAMHOUSE_ACL_REFRESH_MS: '500',
      STREAMHOUSE_AUTH: 'required',
      STREAMHOUSE_AUTH_FILE: '/etc/sh/users.json',
      STREAMHOUSE_MAX_GROUP_MEMBERS: '5',
      STREAMHOUSE_KAFKA_AUTO_CREATE_PARTITIONS: '3',
    });
    expect({ ...flags }).to.deep.equal({
      host: '0.0.0.0',
      port: 0,
      dataDir: '/var/lib/sh',
      objectStore: 's3://bucket/prefix',
      s3Endpoint: 'http://127.0.0.1:9000',
      s3Region: 'eu-west-1',
      s3PathStyle: true,
      metadata: 'redis://127.0.0.1:6379/0',
      redisPrefix: 'sh:',
      agentId: 'agent-7',
      advertisedAddress: 'sh.example:9660',
      wal: true,
      flushIntervalMs: 7,
      flushBytes: 1024,
      leaseTtlMs: 3000,
      maxRequestBytes: 2048,
      maxDecompressedBatchBytes: 32 * 1024 * 1024,
      maxTimestampAheadMs: 3_600_000,
      producerIdExpirationMs: 86_400_000,
      kafka: true,
      kafkaPort: 9092,
      kafkaAutoCreatePartitions: 3,
      http: true,
      httpPort: 9700,
      maxPartitionsPerRequest: 1000,
      maxConnections: 1024,
      handshakeTimeoutMs: 10_000,
      connectionIdleTimeoutMs: 300_000,
      leaseIdleReleaseMs: 300_000,
      maxGroupMemberMetadataBytes: 1024 * 1024,
      maxGroupMembers: 5,
      maxOffsetMetadataBytes: 4096,
      maxConnectionsPerAddress: 128,
      maxLongPolls: 1000,
      maxTopics: 10_000,
      maxPartitionsPerTopic: 1000,
      produceQuota: 0,
      fetchQuota: 0,
      segmentCacheBytes: 4096,
      maintenanceIntervalMs: 0,
      heapGrowingPercent: 0,
      storageRetryTimeoutMs: 30_000,
      storageFailureHoldMs: 5000,
      shutdownTimeoutMs: 10_000,
      startupTimeoutMs: 30_000,
      logLevel: 'warn',
      authorizer: 'acl',
      superusers: ['root', 'ops'],
      aclRefreshMs: 500,
      auth: 'required',
      authFile: '/etc/sh/users.json',
    });
  });

  it('lets a command-line flag win over its environment variable, and --no-wal turn the log off', async () => {
    const flags = await parsedFlags(['--port', '7000', '--lease-ttl-ms', '4000', '--no-wal'], {
      STREAMHOUSE_PORT: '8000',
      STREAMHOUSE_LEASE_TTL_MS: '5000',
    });
    expect([flags.port, flags.leaseTtlMs, flags.wal]).to.deep.equal([7000, 4000, false]);
  });

  it('turns the HTTP port off with --no-http, and refuses an --http-port out of range', async () => {
    expect((await parsedFlags(['--no-http'])).http).to.equal(false);
    expect((await parsedFlags(['--http-port', '0'])).httpPort).to.equal(0);
    expect(await parseError(['--http-port', '65536'])).to.contain(
      "--http-port must be a decimal integer from 0 to 65535, got '65536'",
    );
    expect(await parseError(['--http-port', 'metrics'])).to.contain(
      "--http-port must be a decimal integer from 0 to 65535, got 'metrics'",
    );
  });

  describe('--s3-path-style', () => {
    it('is off unless asked for', async () => {
      expect((await parsedFlags([])).s3PathStyle).to.equal(undefined);
    });

    it('is on for the bare flag, true and 1, off for false and 0, from the command line or environment', async () => {
      expect((await parsedFlags(['--s3-path-style'])).s3PathStyle).to.equal(true);
      const cases: [string, boolean][] = [
        ['true', true],
        ['1', true],
        ['false', false],
        ['0', false],
      ];
      for (const [value, on] of cases) {
        expect((await parsedFlags(['--s3-path-style', value])).s3PathStyle, `--s3-path-style ${value}`).to.equal(on);
        expect(
          (await parsedFlags([], { STREAMHOUSE_S3_PATH_STYLE: value })).s3PathStyle,
          `STREAMHOUSE_S3_PATH_STYLE=${value}`,
        ).to.equal(on);
      }
    });

    it('refuses any other value, naming the flag', async () => {
      for (const bad of ['yes', 'no', 'TRUE', 'off', '', '2']) {
        expect(await parseError([], { STREAMHOUSE_S3_PATH_STYLE: bad }), `env '${bad}'`).to.equal(
          `--s3-path-style must be true, false, 1 or 0, got '${bad}'`,
        );
      }
      expect(await parseError(['--s3-path-style=maybe'])).to.equal(
        "--s3-path-style must be true, false, 1 or 0, got 'maybe'",
      );
    });
  });

  it('booleanOption parses strictly', () => {
    const parse = booleanOption('--flag');
    expect([parse('true'), parse('1'), parse('false'), parse('0')]).to.deep.equal([true, true, false, false]);
    expect(() => parse('True')).to.throw("--flag must be true, false, 1 or 0, got 'True'");
  });
});

async function parseLimitError(args: string[]): Promise<string> {
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
      maxGroupMembers: flags.maxGroupMembers,
      maxOffsetMetadataBytes: flags.maxOffsetMetadataBytes,
    }).to.deep.equal({
      maxInflightRequestBytes: undefined,
      maxPartitionsPerRequest: 1000,
      maxConnections: 1024,
      handshakeTimeoutMs: 10_000,
      connectionIdleTimeoutMs: 300_000,
      leaseIdleReleaseMs: 300_000,
      maxGroupMemberMetadataBytes: 1024 * 1024,
      maxGroupMembers: 1000,
      maxOffsetMetadataBytes: 4096,
    });
  });

  it('take the values given', async () => {
    const flags = await parsedFlags([
      '--max-inflight-request-bytes',
      '134217728',
      '--max-partitions-per-request',
      '50',
      '--max-connections',
      '10',
      '--handshake-timeout-ms',
      '500',
      '--connection-idle-timeout-ms',
      '0',
      '--lease-idle-release-ms',
      '0',
      '--max-group-member-metadata-bytes',
      '2048',
      '--max-group-members',
      '7',
      '--max-offset-metadata-bytes',
      '100',
    ]);
    expect(flags).to.deep.include({
      maxInflightRequestBytes: 134217728,
      maxPartitionsPerRequest: 50,
      maxConnections: 10,
      handshakeTimeoutMs: 500,
      connectionIdleTimeoutMs: 0,
      leaseIdleReleaseMs: 0,
      maxGroupMemberMetadataBytes: 2048,
      maxGroupMembers: 7,
      maxOffsetMetadataBytes: 100,
    });
  });

  it('refuse values out of range or malformed, naming the flag', async () => {
    expect(await parseLimitError(['--max-connections', '0'])).to.contain(
      "--max-connections must be a decimal integer from 1 to 9007199254740991, got '0'.",
    );
    expect(await parseLimitError(['--max-group-members', '0'])).to.contain(
      "--max-group-members must be a decimal integer from 1 to 9007199254740991, got '0'.",
    );
    expect(await parseLimitError(['--max-partitions-per-request', '1e3'])).to.contain(
      "--max-partitions-per-request must be a decimal integer from 1 to 9007199254740991, got '1e3'.",
    );
    expect(await parseLimitError(['--connection-idle-timeout-ms', '-1'])).to.contain(
      "--connection-idle-timeout-ms must be a decimal integer from 0 to 9007199254740991, got '-1'.",
    );
    expect(await parseLimitError(['--kafka-auto-create-partitions', '-1'])).to.contain(
      "--kafka-auto-create-partitions must be a decimal integer from 0 to 9007199254740991, got '-1'.",
    );
    expect(await parseLimitError(['--port', '65536'])).to.contain(
      "--port must be a decimal integer from 0 to 65535, got '65536'.",
    );
  });

  it('reads the TLS files and client-auth mode from flags or the environment', async () => {
    const flags = await parsedFlags(['--tls-cert', 'a.crt', '--tls-key', 'a.key', '--tls-client-auth', 'required'], {
      STREAMHOUSE_TLS_CA: 'ca.crt',
    });
    expect(flags).to.deep.include({ tlsCert: 'a.crt', tlsKey: 'a.key', tlsCa: 'ca.crt', tlsClientAuth: 'required' });
    expect(await parseError(['--tls-client-auth', 'sometimes'])).to.contain("argument 'sometimes' is invalid");
  });
});
