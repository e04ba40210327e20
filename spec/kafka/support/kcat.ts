/** kcat (librdkafka 2.x, Debian's package) for specs: whether it is installed, and one run of it. */
import { execFile, execFileSync } from 'node:child_process';

export function hasKcat(): boolean {
  try {
    execFileSync('kcat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs kcat with `args` and `input` on stdin; resolves with stdout, rejects on a non-zero exit or after 30 s. */
export function kcat(args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`kcat ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(input);
  });
}
