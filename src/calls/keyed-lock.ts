// Serialises async work per key. A call's state is read, changed and written back across awaits;
// with a store that does real I/O, two deliveries for one call could otherwise interleave and lose an
// update, or a late event could slip in beside the complete summary and start a second root span.
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    // Forget the key once nothing else queued behind this work, so the map stays as small as the calls in flight.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  size(): number {
    return this.tails.size;
  }
}
