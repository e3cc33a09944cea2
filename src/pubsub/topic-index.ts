/**
 * Topics and their subscribers, in process: who is subscribed to what, both ways, so that a
 * publish finds its subscribers with one lookup (no scan of the other topics: publishing to a
 * topic among 100,000 costs what it costs among 10) and a closing connection leaves every
 * topic it was in. Sans-I/O and generic over the subscriber: the server plugs connections in.
 */

export interface TopicListener {
  /** `topic` got its first subscriber. */
  topicOpened(topic: string): void;
  /** `topic` lost its last subscriber. */
  topicClosed(topic: string): void;
}

export class TopicIndex<S> {
  private readonly topics = new Map<string, Set<S>>();

  constructor(private readonly listener: TopicListener | null = null) {}

  /** How many topics have subscribers. */
  get size(): number {
    return this.topics.size;
  }

  /** Subscribe; false when it already was. */
  add(topic: string, subscriber: S): boolean {
    let set = this.topics.get(topic);
    if (set === undefined) {
      set = new Set();
      this.topics.set(topic, set);
      set.add(subscriber);
      this.listener?.topicOpened(topic);
      return true;
    }
    if (set.has(subscriber)) return false;
    set.add(subscriber);
    return true;
  }

  /** Unsubscribe; false when it was not. */
  remove(topic: string, subscriber: S): boolean {
    const set = this.topics.get(topic);
    if (set === undefined || !set.delete(subscriber)) return false;
    if (set.size === 0) {
      this.topics.delete(topic);
      this.listener?.topicClosed(topic);
    }
    return true;
  }

  /** The subscribers of `topic` (undefined when none), in subscription order. */
  subscribersOf(topic: string): ReadonlySet<S> | undefined {
    return this.topics.get(topic);
  }

  count(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }
}
