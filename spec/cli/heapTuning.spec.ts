import { expect } from 'chai';
import {
  applyHeapGrowingPercent,
  DEFAULT_HEAP_GROWING_PERCENT,
  MAX_HEAP_GROWING_PERCENT,
} from '../../src/cli/heapTuning.js';
import { serveCommand, type ServeFlags } from '../../src/cli/serve.js';
import { InvalidConfigError } from '../../src/protocol/errors.js';

/** The flags `serve` would run with, for these arguments (its action replaced). */
async function parsedFlags(args: string[]): Promise<ServeFlags> {
  let flags: ServeFlags | undefined;
  await serveCommand()
    .exitOverride()
    .action((f: ServeFlags) => {
      flags = f;
    })
    .parseAsync(args, { from: 'user' });
  return flags!;
}

describe('heapTuning', () => {
  it('refuses values that are not an integer from 0 to the maximum, with InvalidConfigError', () => {
    for (const bad of [-1, 1.5, MAX_HEAP_GROWING_PERCENT + 1, Number.NaN]) {
      expect(() => applyHeapGrowingPercent(bad), String(bad)).to.throw(
        InvalidConfigError,
        /heap growing percent must be an integer from 0/,
      );
    }
  });

  it('accepts 0 (V8 default) and the default', () => {
    expect(() => applyHeapGrowingPercent(0)).not.to.throw();
    expect(() => applyHeapGrowingPercent(DEFAULT_HEAP_GROWING_PERCENT)).not.to.throw();
  });

  describe('serve --heap-growing-percent', () => {
    const saved = process.env['STREAMHOUSE_HEAP_GROWING_PERCENT'];
    afterEach(() => {
      if (saved === undefined) delete process.env['STREAMHOUSE_HEAP_GROWING_PERCENT'];
      else process.env['STREAMHOUSE_HEAP_GROWING_PERCENT'] = saved;
    });

    it('defaults to 400', async () => {
      delete process.env['STREAMHOUSE_HEAP_GROWING_PERCENT'];
      expect((await parsedFlags([])).heapGrowingPercent).to.equal(400);
    });

    it('takes the flag, or STREAMHOUSE_HEAP_GROWING_PERCENT', async () => {
      expect((await parsedFlags(['--heap-growing-percent', '0'])).heapGrowingPercent).to.equal(0);
      process.env['STREAMHOUSE_HEAP_GROWING_PERCENT'] = '150';
      expect((await parsedFlags([])).heapGrowingPercent).to.equal(150);
    });

    it('refuses a negative value', async () => {
      let error: unknown;
      try {
        await parsedFlags(['--heap-growing-percent', '-5']);
      } catch (e) {
        error = e;
      }
      expect(String(error)).to.contain("--heap-growing-percent must be a decimal integer from 0 to 10000, got '-5'.");
    });
  });
});
