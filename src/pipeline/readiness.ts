// Whether the webhook may accept events now. Each subsystem sets or clears its own condition; the
// webhook answers 503 (Twilio retries) while any condition is set, and /readyz lists them.
export class Readiness {
  private readonly conditions = new Map<string, string>();
  private readonly checks: (() => void)[] = [];

  /** A cheap check run before every readiness answer: bounds that traffic moves (store size, outbox). */
  addCheck(check: () => void): void {
    this.checks.push(check);
  }

  set(key: string, why: string): void {
    this.conditions.set(key, why);
  }

  clear(key: string): void {
    this.conditions.delete(key);
  }

  isReady(): boolean {
    for (const check of this.checks) check();
    return this.conditions.size === 0;
  }

  /** The reason set under `key`, if it is set. */
  reason(key: string): string | undefined {
    return this.conditions.get(key);
  }

  /** Human-readable reasons, in the order they were raised. */
  reasons(): string[] {
    return [...this.conditions.values()];
  }
}
