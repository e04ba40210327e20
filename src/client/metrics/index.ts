/**
 * `streamhouse/metrics`: a client's metrics in an application's prom-client
 * registry. Its own entry point, so that `import 'streamhouse'` does not load
 * prom-client.
 */
export {
  registerClientMetrics,
  DEFAULT_CLIENT_METRICS_PREFIX,
  type ClientMetricsOptions,
  type ClientMetricsRegistration,
} from './registerClientMetrics.js';
