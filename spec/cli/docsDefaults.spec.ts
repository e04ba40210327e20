/**
 * The configuration tables of README.md, docs/operations.md and docs/kafka.md against `streamhouse serve`'s flags:
 * every flag is documented, and every documented default is the one `serve --help` shows (from AGENT_DEFAULTS).
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Option } from 'commander';
import { serveCommand } from '../../src/cli/serve.js';
import { AGENT_DEFAULTS } from '../../src/agent/agentDefaults.js';

const MiB = 1024 * 1024;
const DOCS = ['README.md', 'docs/operations.md', 'docs/kafka.md'];

type Row = { doc: string; flags: string[]; defaultCell: string };

/** Rows of the markdown tables whose header starts with `flag` and has a `default` column. */
function flagRows(doc: string): Row[] {
  const rows: Row[] = [];
  let defaultColumn = -1;
  for (const line of readFileSync(new URL(`../../${doc}`, import.meta.url), 'utf8').split('\n')) {
    if (!line.startsWith('|')) {
      defaultColumn = -1;
      continue;
    }
    const cells = line
      .slice(1, line.endsWith('|') ? -1 : undefined)
      .split('|')
      .map((cell) => cell.trim());
    if (cells[0]!.startsWith('flag')) defaultColumn = cells.indexOf('default');
    else if (defaultColumn >= 0 && !cells[0]!.startsWith('---')) {
      const flags = [...cells[0]!.matchAll(/`(--[a-z0-9-]+)/g)].map((match) => match[1]!);
      rows.push({ doc, flags, defaultCell: cells[defaultColumn]!.replaceAll('`', '') });
    }
  }
  return rows;
}

/** How docs write a default: `4 MiB` for whole MiB, else the value itself. */
function renderings(value: unknown): string[] {
  if (typeof value === 'number' && value >= MiB && value % MiB === 0) return [`${value / MiB} MiB`, String(value)];
  return [String(value)];
}

/** The default `--help` shows: commander's, or the `(default …)` of the description. */
function helpDefault(option: Option): string | undefined {
  if (option.defaultValue !== undefined) return renderings(option.defaultValue)[0];
  return /\(default ([^,)]+)/.exec(option.description)?.[1];
}

const rows = DOCS.flatMap(flagRows);
const options = serveCommand().options.filter((option) => option.long !== undefined && option.long !== '--help');

describe('docs defaults', () => {
  it('finds the flag tables of every configuration doc', () => {
    for (const doc of DOCS) expect(rows.filter((row) => row.doc === doc).length, doc).to.be.greaterThan(0);
  });

  it('documents every serve flag in a configuration table', () => {
    const documented = new Set(rows.flatMap((row) => row.flags));
    const missing = options.map((option) => option.long!).filter((flag) => !documented.has(flag));
    expect(missing).to.deep.equal([]);
  });

  it('documents only flags serve has', () => {
    const known = new Set(options.map((option) => option.long!));
    const unknown = rows.flatMap((row) => row.flags.filter((flag) => !known.has(flag)).map((f) => `${row.doc} ${f}`));
    expect(unknown).to.deep.equal([]);
  });

  it("states each flag's default as serve --help does", () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const row of rows) {
      const option = options.find((candidate) => candidate.long === row.flags[0] && !candidate.negate);
      if (option === undefined || typeof option.defaultValue === 'boolean') continue;
      const shown = option.defaultValue === undefined ? helpDefault(option) : option.defaultValue;
      if (shown === undefined) continue;
      checked++;
      // The value, alone or followed by a remark: `0` (none), 256 MiB (at least …).
      const ok = renderings(shown).some(
        (text) => row.defaultCell.startsWith(text) && /^($|[\s,;(])/.test(row.defaultCell.slice(text.length)),
      );
      if (!ok) wrong.push(`${row.doc} ${row.flags[0]}: documented '${row.defaultCell}', --help shows '${shown}'`);
    }
    expect(wrong).to.deep.equal([]);
    expect(checked).to.be.greaterThan(40);
  });

  it('serve --help shows the AGENT_DEFAULTS ports, host and data directory', () => {
    const shown = (flag: string) => options.find((option) => option.long === flag)!.defaultValue as unknown;
    expect([
      shown('--host'),
      shown('--port'),
      shown('--kafka-port'),
      shown('--http-port'),
      shown('--data-dir'),
    ]).to.deep.equal([
      AGENT_DEFAULTS.host,
      AGENT_DEFAULTS.serve.port,
      AGENT_DEFAULTS.serve.kafkaPort,
      AGENT_DEFAULTS.serve.httpPort,
      AGENT_DEFAULTS.serve.dataDir,
    ]);
    expect([AGENT_DEFAULTS.serve.port, AGENT_DEFAULTS.serve.kafkaPort, AGENT_DEFAULTS.serve.httpPort]).to.deep.equal([
      9660, 9092, 9644,
    ]);
  });
});
