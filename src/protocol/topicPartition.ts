/** The one name of a topic-partition in maps and logs: `<topic>/<partition>` (topic names hold no `/`). */
export function topicPartitionId(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
