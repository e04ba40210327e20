/** @internal The prepared statements of the `users` table (schema version 4). */
import type Database from 'better-sqlite3';
import { MetadataError } from '../../protocol/errors.js';
import { checkUserRecord, type UserRecord } from '../users.js';

export type UserRow = { name: string; record: string };

type Statement<P extends unknown[], R = unknown> = Database.Statement<P, R>;

export function prepareUserStatements(db: Database.Database): {
  put: Statement<[string, string]>;
  get: Statement<[string], UserRow>;
  list: Statement<[], UserRow>;
  delete: Statement<[string]>;
} {
  return {
    put: db.prepare<[string, string]>(
      'INSERT INTO users (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record',
    ),
    get: db.prepare<[string], UserRow>('SELECT name, record FROM users WHERE name = ?'),
    list: db.prepare<[], UserRow>('SELECT name, record FROM users ORDER BY name'),
    delete: db.prepare<[string]>('DELETE FROM users WHERE name = ?'),
  };
}

export type UserStatements = ReturnType<typeof prepareUserStatements>;

/** A stored row as a checked record; MetadataError when the stored JSON is not one. */
export function toUserRecord(row: UserRow): UserRecord {
  try {
    return checkUserRecord(JSON.parse(row.record));
  } catch (cause) {
    throw new MetadataError(`stored user ${row.name} is malformed`, { cause });
  }
}
