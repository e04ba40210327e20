/**
 * Emits the TypeScript of one message: for each struct a complete type (what
 * a reader returns), an `Init` type whose fields may be left out (a writer
 * fills in the schema's defaults), a default value, a reader and a writer.
 */
import {
  intersect,
  isEmpty,
  isOpen,
  type FieldSpec,
  type MessageSpec,
  type StructSpec,
  type VersionRange,
} from './schema.js';

const PRIMITIVES = new Set([
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'bool',
  'uuid',
  'string',
  'bytes',
  'records',
]);
const NUMBERS = new Set(['int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64']);

type Struct = { tsName: string; fields: FieldSpec[] };

class Emitter {
  private readonly structs = new Map<string, Struct>();
  private readonly out: string[] = [];

  constructor(private readonly spec: MessageSpec) {
    for (const common of spec.commonStructs) this.collect(common.name, common.fields);
    this.collect(spec.name, spec.fields);
  }

  private tsName(struct: string): string {
    return struct === this.spec.name || struct.startsWith(this.spec.name) ? struct : `${this.spec.name}${struct}`;
  }

  private collect(name: string, fields: FieldSpec[]): void {
    const existing = this.structs.get(name);
    if (existing !== undefined && existing.fields !== fields) {
      if (JSON.stringify(existing.fields) !== JSON.stringify(fields))
        throw new Error(`${this.spec.name}: struct ${name} defined twice differently`);
      return;
    }
    this.structs.set(name, { tsName: this.tsName(name), fields });
    for (const field of fields) {
      if (field.fields !== undefined) this.collect(elementType(field.type), field.fields);
    }
  }

  private struct(name: string): Struct {
    const struct = this.structs.get(name);
    if (struct === undefined) throw new Error(`${this.spec.name}: unknown struct ${name}`);
    return struct;
  }

  /** A condition on `v` that holds for the versions in `range`, simplified against the message's valid versions. */
  private cond(range: VersionRange): string {
    const valid = this.spec.validVersions;
    const r = intersect(range, valid);
    if (isEmpty(r)) return 'false';
    const low = r.min > valid.min ? `v >= ${r.min}` : '';
    const high = r.max < valid.max ? `v <= ${r.max}` : '';
    if (low === '' && high === '') return 'true';
    if (low !== '' && high !== '') return r.min === r.max ? `v === ${r.min}` : `${low} && ${high}`;
    return low || high;
  }

  private fieldType(field: FieldSpec, init: boolean): string {
    const nullable = !isEmpty(field.nullableVersions) ? ' | null' : '';
    const t = field.type;
    if (t.startsWith('[]')) {
      const element = elementType(t);
      const inner = PRIMITIVES.has(element)
        ? primitiveType(element, init)
        : this.struct(element).tsName + (init ? 'Init' : '');
      return `${inner}[]${nullable}`;
    }
    if (PRIMITIVES.has(t)) return primitiveType(t, init) + nullable;
    return this.struct(t).tsName + (init ? 'Init' : '') + nullable;
  }

  /** The value a tagged field is left out at: its default, or null for a struct default. */
  private taggedDefault(field: FieldSpec): string {
    const value = this.defaultValue(field);
    return value.startsWith('default') ? 'null' : value;
  }

  private defaultValue(field: FieldSpec): string {
    const t = field.type;
    const d = field.default;
    if (d === 'null') return 'null';
    if (t.startsWith('[]')) return '[]';
    if (NUMBERS.has(t)) return d === undefined || d === '' ? '0' : String(Number(d));
    if (t === 'bool') return d === 'true' ? 'true' : 'false';
    if (t === 'string') return JSON.stringify(d ?? '');
    if (t === 'bytes' || t === 'records') return 'EMPTY_BYTES';
    if (t === 'uuid') return 'ZERO_UUID';
    return `default${this.struct(t).tsName}()`;
  }

  private compact(field: FieldSpec): string {
    return field.flexibleVersions === undefined ? 'flexible' : this.cond(field.flexibleVersions);
  }

  /** Expression reading one value of primitive type `t` from reader `r`. */
  private readPrimitive(t: string, nullable: string, compact: string, r: string): string {
    switch (t) {
      case 'string':
        return nullable === 'false'
          ? `${r}.string(${compact})`
          : nullable === 'true'
            ? `${r}.nullableString(${compact})`
            : `(${nullable} ? ${r}.nullableString(${compact}) : ${r}.string(${compact}))`;
      case 'bytes':
      case 'records':
        return nullable === 'false'
          ? `${r}.bytes(${compact})`
          : nullable === 'true'
            ? `${r}.nullableBytes(${compact})`
            : `(${nullable} ? ${r}.nullableBytes(${compact}) : ${r}.bytes(${compact}))`;
      default:
        return `${r}.${t}()`;
    }
  }

  private readValue(field: FieldSpec, r: string): string {
    const nullable = this.cond(field.nullableVersions);
    const compact = this.compact(field);
    const t = field.type;
    if (t.startsWith('[]')) {
      const element = elementType(t);
      const one = PRIMITIVES.has(element)
        ? this.readPrimitive(element, 'false', compact, r)
        : `read${this.struct(element).tsName}(${r}, v)`;
      return `readArray(${r}, ${compact}, ${nullable}, () => ${one})`;
    }
    if (PRIMITIVES.has(t)) return this.readPrimitive(t, nullable, compact, r);
    const one = `read${this.struct(t).tsName}(${r}, v)`;
    return nullable === 'false' ? one : `(${nullable} && ${r}.int8() < 0 ? null : ${one})`;
  }

  private writePrimitive(t: string, value: string, nullable: string, compact: string, w: string): string {
    switch (t) {
      case 'string':
        return nullable === 'false' ? `${w}.string(${value}, ${compact})` : `${w}.nullableString(${value}, ${compact})`;
      case 'bytes':
      case 'records':
        return nullable === 'false' ? `${w}.bytes(${value}, ${compact})` : `${w}.nullableBytes(${value}, ${compact})`;
      default:
        return `${w}.${t}(${value})`;
    }
  }

  private writeValue(field: FieldSpec, value: string, w: string): string {
    const nullable = this.cond(field.nullableVersions);
    const compact = this.compact(field);
    const t = field.type;
    if (t.startsWith('[]')) {
      const element = elementType(t);
      const one = PRIMITIVES.has(element)
        ? this.writePrimitive(element, 'e', 'false', compact, w)
        : `write${this.struct(element).tsName}(${w}, v, e)`;
      return `writeArray(${w}, ${compact}, ${value}, (e) => ${one})`;
    }
    if (PRIMITIVES.has(t)) return this.writePrimitive(t, value, nullable, compact, w);
    const one = `write${this.struct(t).tsName}(${w}, v, ${value})`;
    if (nullable === 'false') return one;
    return (
      `{ const s = ${value}; if (s === null) ${w}.int8(-1); ` +
      `else { if (${nullable}) ${w}.int8(1); write${this.struct(t).tsName}(${w}, v, s); } }`
    );
  }

  private emitStruct(struct: Struct): void {
    const { tsName, fields } = struct;
    const flexibleMin = this.spec.flexibleVersions.min;
    const flexible = isEmpty(this.spec.flexibleVersions) ? 'false' : this.cond({ min: flexibleMin, max: 0x7fff });
    const o = this.out;
    const prop = (f: FieldSpec) => camel(f.name);
    o.push(`export type ${tsName} = {`);
    for (const f of fields) {
      if (f.about !== undefined) o.push(`  /** ${f.about.replace(/\*\//g, '*\\/')} */`);
      o.push(`  ${prop(f)}: ${this.fieldType(f, false)};`);
    }
    o.push('};', '');
    o.push(`/** {@link ${tsName}} to write: a field left out takes the schema's default. */`);
    o.push(`export type ${tsName}Init = {`);
    for (const f of fields) o.push(`  ${prop(f)}?: ${this.fieldType(f, true)};`);
    o.push('};', '');
    o.push(`export function default${tsName}(): ${tsName} {`);
    o.push(`  return { ${fields.map((f) => `${prop(f)}: ${this.defaultValue(f)}`).join(', ')} };`);
    o.push('}', '');

    const tagged = fields.filter((f) => !isEmpty(f.taggedVersions));
    // Reader.
    o.push(`export function read${tsName}(r: KafkaReader, v: number): ${tsName} {`);
    o.push(`  const flexible = ${flexible};`);
    o.push(`  const m = default${tsName}();`);
    for (const f of fields) {
      const present = this.mainCond(f);
      if (present === 'false') continue;
      const stmt = `m.${prop(f)} = ${this.readValue(f, 'r')};`;
      o.push(present === 'true' ? `  ${stmt}` : `  if (${present}) ${stmt}`);
    }
    if (tagged.length === 0) {
      o.push('  if (flexible) r.taggedFields(() => false);');
    } else {
      o.push('  if (flexible) {');
      o.push('    r.taggedFields((tag, t) => {');
      o.push('      switch (tag) {');
      for (const f of tagged) {
        o.push(`        case ${f.tag}:`);
        o.push(`          if (!(${this.cond(intersect(f.taggedVersions, f.versions))})) return false;`);
        o.push(`          m.${prop(f)} = ${this.readValue(f, 't')};`);
        o.push('          return true;');
      }
      o.push('        default:');
      o.push('          return false;');
      o.push('      }');
      o.push('    });');
      o.push('  }');
    }
    o.push('  return m;');
    o.push('}', '');

    // Writer.
    o.push(`export function write${tsName}(w: KafkaWriter, v: number, m: ${tsName}Init): void {`);
    o.push(`  const flexible = ${flexible};`);
    for (const f of fields) {
      const present = this.mainCond(f);
      if (present === 'false') continue;
      const value = isEmpty(f.nullableVersions)
        ? `(m.${prop(f)} ?? ${this.defaultValue(f)})`
        : `(m.${prop(f)} === undefined ? ${this.defaultValue(f)} : m.${prop(f)})`;
      const stmt = `${this.writeValue(f, value, 'w')};`;
      o.push(present === 'true' ? `  ${stmt}` : `  if (${present}) ${stmt}`);
    }
    if (tagged.length === 0) {
      o.push('  if (flexible) w.uvarint(0);');
    } else {
      o.push('  if (flexible) {');
      o.push('    const tagged: [number, KafkaWriter][] = [];');
      for (const f of tagged) {
        const value = `m.${prop(f)}`;
        const set = f.type.startsWith('[]')
          ? `${value} !== undefined && ${value} !== null && ${value}.length > 0`
          : `${value} !== undefined && ${value} !== ${this.taggedDefault(f)}`;
        o.push(`    if ((${this.cond(intersect(f.taggedVersions, f.versions))}) && ${set}) {`);
        o.push('      const t = new KafkaWriter(64);');
        o.push(`      ${this.writeValue(f, `${value}!`, 't')};`);
        o.push(`      tagged.push([${f.tag}, t]);`);
        o.push('    }');
      }
      o.push('    writeTaggedFields(w, tagged);');
      o.push('  }');
    }
    o.push('}', '');
  }

  /** Condition for a field to be in the fixed part (present and not tagged). */
  private mainCond(f: FieldSpec): string {
    const present = this.cond(f.versions);
    if (isEmpty(f.taggedVersions)) return present;
    const tagged = this.cond(f.taggedVersions);
    const within = intersect(f.versions, this.spec.validVersions);
    if (
      tagged === 'true' ||
      present === 'false' ||
      (f.taggedVersions.min <= within.min && f.taggedVersions.max >= within.max)
    )
      return 'false';
    return `(${present}) && !(${tagged})`;
  }

  emit(): string {
    const { spec } = this;
    const o = this.out;
    o.push(`// Generated by src/kafka/codegen/generateMessages.ts from Kafka's ${spec.name}.json. Do not edit.`);
    o.push('/* eslint-disable */');
    o.push(`import { KafkaReader } from '../wire/kafkaReader.js';`);
    o.push(`import { KafkaWriter } from '../wire/kafkaWriter.js';`);
    o.push(
      `import { EMPTY_BYTES, ZERO_UUID, readArray, writeArray, writeTaggedFields } from '../wire/fieldHelpers.js';`,
    );
    o.push('');
    const valid = spec.validVersions;
    const flexibleMin = isEmpty(spec.flexibleVersions) ? 'Infinity' : String(spec.flexibleVersions.min);
    o.push(
      `/** Versions of ${spec.name} in the schema; flexible (compact types, tagged fields) from \`flexibleMin\`. */`,
    );
    o.push(
      `export const ${spec.name}Schema = { apiKey: ${spec.apiKey ?? -1}, minVersion: ${valid.min}, ` +
        `maxVersion: ${isOpen(valid) ? 0x7fff : valid.max}, flexibleMin: ${flexibleMin} } as const;`,
    );
    o.push('');
    for (const struct of this.structs.values()) this.emitStruct(struct);
    // `void` keeps imports used in messages without arrays or tagged fields.
    o.push('void readArray; void writeArray; void writeTaggedFields; void EMPTY_BYTES; void ZERO_UUID;');
    return `${o.join('\n')}\n`;
  }
}

function elementType(type: string): string {
  return type.startsWith('[]') ? type.slice(2) : type;
}

function primitiveType(t: string, init: boolean): string {
  if (NUMBERS.has(t)) return 'number';
  if (t === 'bool') return 'boolean';
  if (t === 'string') return 'string';
  return init ? 'Uint8Array' : 'Buffer';
}

function camel(name: string): string {
  return name[0]!.toLowerCase() + name.slice(1);
}

export function emitMessage(spec: MessageSpec): string {
  return new Emitter(spec).emit();
}

export type { StructSpec };
