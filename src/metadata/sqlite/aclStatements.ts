/**
 * The SQL of the SQLite store's access-control entries (table `acls`,
 * schema version 5), prepared once per connection.
 * @internal
 */
import type Database from 'better-sqlite3';
import { compareAcls, type AclEntry } from '../aclRules.js';

type AclRow = {
  principal: string;
  permission: string;
  operation: string;
  resource_type: string;
  pattern_type: string;
  resource_name: string;
};

const COLUMNS = 'principal, permission, operation, resource_type, pattern_type, resource_name';
const MATCH =
  'principal = @principal AND permission = @permission AND operation = @operation AND ' +
  'resource_type = @resource_type AND pattern_type = @pattern_type AND resource_name = @resource_name';

/** @internal */
export class AclStatements {
  private readonly insert: Database.Statement<AclRow>;
  private readonly remove: Database.Statement<AclRow>;
  private readonly all: Database.Statement<[], AclRow>;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO acls (${COLUMNS}) VALUES ` +
        '(@principal, @permission, @operation, @resource_type, @pattern_type, @resource_name)',
    );
    this.remove = db.prepare(`DELETE FROM acls WHERE ${MATCH}`);
    this.all = db.prepare(`SELECT ${COLUMNS} FROM acls`);
  }

  /** True when the entry was not stored before. */
  add(entry: AclEntry): boolean {
    return this.insert.run(toRow(entry)).changes > 0;
  }

  /** True when an equal entry was stored. */
  delete(entry: AclEntry): boolean {
    return this.remove.run(toRow(entry)).changes > 0;
  }

  list(): AclEntry[] {
    return this.all.all().map(fromRow).sort(compareAcls);
  }
}

function toRow(entry: AclEntry): AclRow {
  return {
    principal: entry.principal,
    permission: entry.permission,
    operation: entry.operation,
    resource_type: entry.resourceType,
    pattern_type: entry.patternType,
    resource_name: entry.resourceName,
  };
}

function fromRow(row: AclRow): AclEntry {
  return {
    principal: row.principal,
    permission: row.permission,
    operation: row.operation,
    resourceType: row.resource_type,
    patternType: row.pattern_type,
    resourceName: row.resource_name,
  } as AclEntry;
}
