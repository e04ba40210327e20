/**
 * Types shared by the partition assignors of a consumer group.
 *
 * At JoinGroup every member offers one protocol per assignor it supports, each
 * with its {@link MemberMetadata} encoded by `memberCodec.ts`. The agent picks
 * one protocol for the group and hands every member's metadata to the leader,
 * which runs the chosen {@link Assignor} and sends one encoded
 * {@link Assignment} per member back with SyncGroup.
 */

/** Some partitions of one topic. */
export type TopicPartitions = {
  /** Topic name. */
  topic: string;
  /** Partition numbers, ascending, without duplicates. */
  partitions: number[];
};

/** What a member tells the group leader when it joins. */
export type MemberMetadata = {
  /** Codec version the metadata was written with (see `MEMBER_CODEC_VERSION`). */
  version: number;
  /** Topics the member subscribes to. */
  topics: string[];
  /**
   * Partitions the member holds right now. Cooperative assignors keep them
   * where balance allows; eager members revoke everything before joining and
   * send an empty list.
   */
  ownedPartitions: TopicPartitions[];
  /**
   * Generation in which the member got `ownedPartitions`, or undefined when
   * unknown. When two members claim the same partition the claim from the
   * newer generation wins (the other member is a zombie of an older one).
   */
  generation?: number;
  /** Opaque bytes for a custom assignor. */
  userData?: Uint8Array;
};

/** What the group leader tells one member after a rebalance. */
export type Assignment = {
  /** Codec version the assignment was written with. */
  version: number;
  /** Partitions the member must consume in the new generation, by topic then partition. */
  partitions: TopicPartitions[];
  /** Opaque bytes for a custom assignor. */
  userData?: Uint8Array;
};

/** One member as the leader sees it when assigning. */
export type GroupMemberMetadata = {
  /** Member id given by the agent at JoinGroup. */
  memberId: string;
  /** The member's decoded metadata. */
  metadata: MemberMetadata;
};

/**
 * How members change partitions during a rebalance.
 * - `eager`: every member revokes all its partitions before joining.
 * - `cooperative`: members keep consuming what they own; only partitions that
 *   move are revoked, and they are assigned to their new owner one rebalance later.
 */
export type RebalanceProtocol = 'eager' | 'cooperative';

/** A partition assignment strategy, run by the group leader. */
export type Assignor = {
  /** Protocol name offered at JoinGroup, e.g. `'range'`. */
  name: string;
  /** Which rebalance protocol the consumer must follow with this assignor. */
  rebalanceProtocol: RebalanceProtocol;
  /**
   * Computes every member's assignment. Deterministic: the same members (in
   * any order) and counts give the same result. Every member gets an entry,
   * possibly with no partitions. Topics missing from `partitionCounts` (unknown
   * to the cluster) are ignored.
   *
   * @param members every member of the group with its metadata
   * @param partitionCounts number of partitions per topic
   */
  assign(
    members: readonly GroupMemberMetadata[],
    partitionCounts: ReadonlyMap<string, number>,
  ): Map<string, Assignment>;
};
