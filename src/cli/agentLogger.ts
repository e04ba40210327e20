/**
 * The agent's logger: one JSON line per event on stderr. Fields that may
 * carry a secret are censored wherever they appear two levels deep.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Field names whose values are never written. */
export const SECRET_FIELDS = ['password', 'token', 'authorization', 'secret', 'accessKeyId', 'secretAccessKey'];

/** pino options of the agent's logger at `level`. */
export function agentLoggerOptions(level: string): LoggerOptions {
  const paths = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);
  return { level, base: { component: 'agent' }, redact: { paths, censor: '[redacted]' } };
}

/** The agent's logger at `level`, writing to `destination` (default stderr). */
export function createAgentLogger(level: string, destination: DestinationStream = pino.destination(2)): Logger {
  return pino(agentLoggerOptions(level), destination);
}
