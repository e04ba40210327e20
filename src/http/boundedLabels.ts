/**
 * Label values of bounded cardinality: the first `max` names admitted keep
 * their own value, any other is `other`.
 */
export class BoundedLabels {
  private readonly admitted = new Set<string>();

  constructor(private readonly max: number) {}

  /** The label of `name`; `admit` false never takes a new slot (names from hostile or refused input). */
  label(name: string, admit: boolean): string {
    if (this.admitted.has(name)) return name;
    if (!admit || this.admitted.size >= this.max) return 'other';
    this.admitted.add(name);
    return name;
  }
}
