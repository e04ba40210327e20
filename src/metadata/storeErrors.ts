/**
 * Builders for the errors every MetadataStore backend raises about topics,
 * groups, producers and agents, so both backends say the same thing.
 * (Lease and segment errors live with their rules: leaseRules.ts, segmentRules.ts.)
 */
import {
  GroupIdNotFoundError,
  IllegalGenerationError,
  InvalidConfigError,
  InvalidProducerEpochError,
  InvalidRequestError,
  TopicAlreadyExistsError,
  UnknownMemberIdError,
  UnknownProducerIdError,
  UnknownTopicOrPartitionError,
} from '../protocol/errors.js';
import { MAX_PRODUCER_EPOCH } from './requestValidation.js';

export function unknownTopicError(topic: string): UnknownTopicOrPartitionError {
  return new UnknownTopicOrPartitionError(`topic '${topic}' does not exist`, { context: { topic } });
}

/** A partition number beyond the topic's count (`partitions` undefined when the topic does not exist). */
export function unknownPartitionError(
  topic: string,
  partition: number,
  partitions: number | undefined,
): UnknownTopicOrPartitionError {
  if (partitions === undefined) return unknownTopicError(topic);
  return new UnknownTopicOrPartitionError(
    `partition ${partition} of topic '${topic}' does not exist (the topic has partitions 0..${partitions - 1})`,
    { context: { topic, partition } },
  );
}

/** A create refused because the cluster holds `count` topics and `maxTopics` allows no more (`--max-topics`). */
export function tooManyTopicsError(topic: string, count: number, maxTopics: number): InvalidConfigError {
  return new InvalidConfigError(
    `topic ${topic} not created: the cluster has ${count} topics, at most ${maxTopics} allowed (--max-topics)`,
    { context: { topic } },
  );
}

export function topicExistsError(topic: string): TopicAlreadyExistsError {
  return new TopicAlreadyExistsError(`topic '${topic}' already exists`, { context: { topic } });
}

/** An offset commit under a generation the group is not at (`current` undefined when the group does not exist). */
export function illegalGenerationError(
  groupId: string,
  given: number,
  current: number | undefined,
): IllegalGenerationError {
  const actual = current === undefined ? 'the group does not exist' : `the group is at generation ${current}`;
  return new IllegalGenerationError(
    `offset commit for group ${groupId} under generation ${given} refused: ${actual}; rejoin the group`,
  );
}

/** A commit outside group management (generation -1) while the group has members: it would overwrite their offsets. */
export function groupNotEmptyError(groupId: string, members: number): IllegalGenerationError {
  return new IllegalGenerationError(
    `offset commit for group ${groupId} under generation -1 refused: the group has ${members} ` +
      `member${members === 1 ? '' : 's'}; ` +
      'commit as a member with its generation, or once the group is empty',
  );
}

/** Deleting a group that still has members. */
export function deleteNonEmptyGroupError(groupId: string, members: number): IllegalGenerationError {
  return new IllegalGenerationError(
    `group ${groupId} has ${members} member${members === 1 ? '' : 's'}: only an empty group can be deleted (stop ` +
      `its consumers first)`,
  );
}

/** A group with neither a record nor committed offsets. */
export function unknownGroupError(groupId: string): GroupIdNotFoundError {
  return new GroupIdNotFoundError(`group ${groupId} does not exist`);
}

export function unknownMemberError(groupId: string, memberId: string, generation: number): UnknownMemberIdError {
  return new UnknownMemberIdError(
    `member '${memberId}' is not in group ${groupId} at generation ${generation}; rejoin the group`,
  );
}

export function unknownProducerError(producerId: number): UnknownProducerIdError {
  return new UnknownProducerIdError(`producer id ${producerId} was never allocated; allocate a new one`);
}

export function producerEpochExhaustedError(producerId: number): InvalidProducerEpochError {
  return new InvalidProducerEpochError(
    `producer id ${producerId} is at the last epoch (${MAX_PRODUCER_EPOCH}); allocate a new producer id`,
  );
}

export function unknownAgentError(agentId: string): InvalidRequestError {
  return new InvalidRequestError(`agent '${agentId}' is not registered; register it before sending heartbeats`);
}
