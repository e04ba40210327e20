/** A progress bar for long runs (to stderr, so piped stdout stays clean). */
import cliProgress from 'cli-progress';

export type Progress = { tick(n?: number): void; stop(): void };

export function progress(label: string, total: number): Progress {
  if (!process.stderr.isTTY) {
    // No terminal (CI, pipes): one line at start and end instead of redraws.
    process.stderr.write(`${label}: ${total} steps\n`);
    let done = 0;
    return {
      tick: (n = 1) => void (done += n),
      stop: () => void process.stderr.write(`${label}: ${done}/${total} done\n`),
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(28)} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: (n = 1) => bar.increment(n), stop: () => bar.stop() };
}
