/**
 * `streamhouse acls add|list|remove`: the access-control entries agents
 * enforce with `serve --authorizer acl`, kept in the metadata store (so the
 * command opens the store agents use, not an agent). Agents see a change
 * within their --acl-refresh-ms.
 */
import { Command, Option } from 'commander';
import {
  ACL_OPERATIONS,
  CLUSTER_RESOURCE,
  type AclEntry,
  type AclOperation,
  type AclResourceType,
} from '../metadata/aclRules.js';
import { withMetadataStore } from './openMetadataStore.js';
import { InvalidRequestError } from '../protocol/errors.js';
import { printJson, printTable } from './output.js';

type StoreFlags = { dataDir: string; metadata?: string; redisPrefix: string; json?: boolean };

type ResourceFlags = { topic?: string; group?: string; cluster?: boolean; prefix?: boolean };

type EntryFlags = StoreFlags &
  ResourceFlags & { principal: string; allow?: boolean; deny?: boolean; operation: string };

type ListFlags = StoreFlags & ResourceFlags & { principal?: string };

function storeOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--data-dir <dir>', 'data directory of the agent (its metadata.db)')
        .env('STREAMHOUSE_DATA_DIR')
        .default('./data'),
    )
    .addOption(
      new Option('--metadata <url>', 'SQLite file path or redis://host:port/db (default <data-dir>/metadata.db)').env(
        'STREAMHOUSE_METADATA',
      ),
    )
    .addOption(
      new Option('--redis-prefix <prefix>', 'key prefix in Redis')
        .env('STREAMHOUSE_REDIS_PREFIX')
        .default('streamhouse:'),
    )
    .option('--json', 'print JSON');
}

function resourceOptions(command: Command): Command {
  return command
    .option('--topic <name>', 'a topic (with --prefix: every topic whose name starts with it)')
    .option('--group <id>', 'a consumer group (with --prefix: every group whose id starts with it)')
    .option('--cluster', 'the cluster')
    .option('--prefix', 'match every name starting with --topic or --group');
}

/** The resource the flags name: exactly one of --topic, --group, --cluster. */
function resourceOf(flags: ResourceFlags): Pick<AclEntry, 'resourceType' | 'patternType' | 'resourceName'> {
  const given = [flags.topic, flags.group, flags.cluster].filter((v) => v !== undefined).length;
  if (given !== 1) throw new InvalidRequestError('name exactly one resource: --topic, --group or --cluster');
  if (flags.cluster === true) {
    if (flags.prefix === true) throw new InvalidRequestError('--prefix goes with --topic or --group, not --cluster');
    return { resourceType: 'cluster', patternType: 'literal', resourceName: CLUSTER_RESOURCE };
  }
  const resourceType: AclResourceType = flags.topic !== undefined ? 'topic' : 'group';
  return {
    resourceType,
    patternType: flags.prefix === true ? 'prefix' : 'literal',
    resourceName: (flags.topic ?? flags.group)!,
  };
}

function entryOf(flags: EntryFlags): AclEntry {
  if ((flags.allow === true) === (flags.deny === true)) throw new InvalidRequestError('give one of --allow or --deny');
  return {
    principal: flags.principal,
    permission: flags.allow === true ? 'allow' : 'deny',
    operation: flags.operation as AclOperation,
    ...resourceOf(flags),
  };
}

const HEADER = ['PRINCIPAL', 'PERMISSION', 'OPERATION', 'RESOURCE', 'PATTERN', 'NAME'];

function row(entry: AclEntry): string[] {
  return [
    entry.principal,
    entry.permission,
    entry.operation,
    entry.resourceType,
    entry.patternType,
    entry.resourceName,
  ];
}

function entryCommand(name: 'add' | 'remove', description: string): Command {
  const operations = [...new Set(Object.values(ACL_OPERATIONS).flat())].join(', ');
  const command = new Command(name)
    .description(description)
    .requiredOption('--principal <name>', "who: a principal name, ANONYMOUS, or '*' for everyone")
    .option('--allow', 'the entry allows')
    .option('--deny', 'the entry denies (a deny wins over any allow)')
    .requiredOption('--operation <op>', `one of ${operations} (topic, group or cluster ones)`);
  return storeOptions(resourceOptions(command)).action(async (flags: EntryFlags) => {
    const entry = entryOf(flags);
    const changed = await withMetadataStore(flags, (store) =>
      name === 'add' ? store.addAcl(entry) : store.removeAcl(entry),
    );
    if (flags.json === true) return printJson(name === 'add' ? { added: changed, acl: entry } : { removed: changed });
    const outcome = name === 'add' ? (changed ? 'added' : 'already present') : changed ? 'removed' : 'no such ACL';
    process.stdout.write(`${outcome}: ${row(entry).join(' ')}\n`);
  });
}

export function aclsCommand(): Command {
  const list = storeOptions(
    resourceOptions(
      new Command('list')
        .description('list ACLs, optionally only those of a principal or naming a resource')
        .option('--principal <name>', 'only entries of this principal'),
    ),
  ).action(async (flags: ListFlags) => {
    const wanted = [flags.topic, flags.group, flags.cluster].some((v) => v !== undefined)
      ? resourceOf(flags)
      : undefined;
    const entries = (await withMetadataStore(flags, (store) => store.listAcls())).filter(
      (e) =>
        (flags.principal === undefined || e.principal === flags.principal) &&
        (wanted === undefined ||
          (e.resourceType === wanted.resourceType &&
            e.resourceName === wanted.resourceName &&
            (flags.prefix === undefined || e.patternType === wanted.patternType))),
    );
    if (flags.json === true) return printJson(entries);
    printTable(HEADER, entries.map(row));
  });
  return new Command('acls')
    .description('manage the access-control entries agents enforce with --authorizer acl')
    .addCommand(entryCommand('add', 'add an ACL'))
    .addCommand(list)
    .addCommand(entryCommand('remove', 'remove an ACL equal in every field'));
}
