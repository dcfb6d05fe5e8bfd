// Bounded concurrency: at most `limit` tasks run at once; start() waits for a free slot, so the
// scheduler slows down instead of piling up requests when the target is slow.
export class Pool {
  private running = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Resolves once the task has started (not finished). Task errors are the task's business. */
  async start(task: () => Promise<void>): Promise<void> {
    while (this.running >= this.limit) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.running++;
    void task()
      .catch(() => undefined)
      .finally(() => {
        this.running--;
        this.slotWaiters.shift()?.();
        if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
  }

  /** Resolves when no task is running. */
  async drain(): Promise<void> {
    if (this.running === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
