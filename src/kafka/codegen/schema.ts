/**
 * Kafka's message schema format, as the generator reads it: a message lists
 * fields, each present in a range of versions, possibly nullable or tagged in
 * some of them; struct fields nest their own fields or name a common struct.
 */

/** Inclusive version range; `none` is the empty range [1, 0]. */
export type VersionRange = { min: number; max: number };

export const NO_VERSIONS: VersionRange = { min: 1, max: 0 };
const OPEN = 0x7fff;

export type FieldSpec = {
  name: string;
  type: string;
  versions: VersionRange;
  nullableVersions: VersionRange;
  taggedVersions: VersionRange;
  /** Overrides the message's flexible versions for this field (the header's ClientId). */
  flexibleVersions: VersionRange | undefined;
  tag: number | undefined;
  default: string | undefined;
  about: string | undefined;
  fields: FieldSpec[] | undefined;
};

export type StructSpec = { name: string; versions: VersionRange; fields: FieldSpec[] };

export type MessageSpec = {
  name: string;
  apiKey: number | undefined;
  type: 'request' | 'response' | 'header' | 'data' | 'metadata';
  validVersions: VersionRange;
  flexibleVersions: VersionRange;
  fields: FieldSpec[];
  commonStructs: StructSpec[];
};

/** "3+", "0-7", "5", "none". */
export function parseVersions(text: string | undefined): VersionRange {
  if (text === undefined || text === 'none') return NO_VERSIONS;
  const plus = /^(\d+)\+$/.exec(text);
  if (plus !== null) return { min: Number(plus[1]), max: OPEN };
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range !== null) return { min: Number(range[1]), max: Number(range[2]) };
  if (/^\d+$/.test(text)) return { min: Number(text), max: Number(text) };
  throw new Error(`bad version range '${text}'`);
}

export function isOpen(range: VersionRange): boolean {
  return range.max === OPEN;
}

export function isEmpty(range: VersionRange): boolean {
  return range.min > range.max;
}

export function intersect(a: VersionRange, b: VersionRange): VersionRange {
  return { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) };
}

type RawField = {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  flexibleVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  about?: string;
  fields?: RawField[];
};

function parseField(raw: RawField): FieldSpec {
  return {
    name: raw.name,
    type: raw.type,
    versions: parseVersions(raw.versions),
    nullableVersions: parseVersions(raw.nullableVersions),
    taggedVersions: parseVersions(raw.taggedVersions),
    flexibleVersions: raw.flexibleVersions === undefined ? undefined : parseVersions(raw.flexibleVersions),
    tag: raw.tag,
    default: raw.default === undefined ? undefined : String(raw.default),
    about: raw.about,
    fields: raw.fields?.map(parseField),
  };
}

/** Parses one schema file (JSON with whole-line `//` comments). */
export function parseSchema(text: string): MessageSpec {
  const json = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n');
  const raw = JSON.parse(json) as {
    name: string;
    apiKey?: number;
    type: MessageSpec['type'];
    validVersions: string;
    flexibleVersions: string;
    fields: RawField[];
    commonStructs?: { name: string; versions: string; fields: RawField[] }[];
  };
  return {
    name: raw.name,
    apiKey: raw.apiKey,
    type: raw.type,
    validVersions: parseVersions(raw.validVersions),
    flexibleVersions: parseVersions(raw.flexibleVersions),
    fields: raw.fields.map(parseField),
    commonStructs: (raw.commonStructs ?? []).map((s) => ({
      name: s.name,
      versions: parseVersions(s.versions),
      fields: s.fields.map(parseField),
    })),
  };
}
