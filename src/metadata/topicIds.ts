/**
 * Topic ids: a random UUID given to each topic when it is created, so a
 * topic created again under a deleted one's name is told apart from it.
 * Stored lower-case and hyphenated, as `crypto.randomUUID` writes them.
 * @internal
 */
import { randomUUID } from 'node:crypto';

const TOPIC_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A new topic id. */
export function newTopicId(): string {
  return randomUUID();
}

/** Whether `id` is a topic id as stored: 36 characters, lower-case hex in 8-4-4-4-12 groups. */
export function isTopicId(id: string): boolean {
  return TOPIC_ID.test(id);
}
