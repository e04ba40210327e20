/** The marble-test examples of docs/testing.md run and pass as they are written. */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('streamhouse/testing examples', function () {
  this.timeout(60_000);

  for (const [file, line] of [
    ['examples/testing-producer.ts', 'producer pipeline: marble test passed'],
    ['examples/testing-consume-transform-produce.ts', 'consume-transform-produce pipeline: marble test passed'],
  ] as const) {
    it(`${file} passes`, async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: root });
      expect(stdout.trim()).to.equal(line);
    });
  }
});
