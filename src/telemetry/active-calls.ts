// Which calls are active now: a call counts on an edge while a metrics sample or call event for it
// arrived in the last window (60 s by DESIGN section 4). Receive time, not event time: Twilio
// delivers events up to ~90 s late, and "active" means "still sending".
import type { Clock } from '../clock.js';
import type { MediaEdge } from '../events/types.js';

export class ActiveCalls {
  /** key "edge callSid" -> last receive time; Map order is recency order (touch re-inserts). */
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs = 60_000,
    private readonly maxEntries = 200_000,
  ) {}

  touch(callSid: string, edge: MediaEdge | undefined): void {
    const key = `${edge ?? 'unknown'} ${callSid}`;
    this.lastSeen.delete(key);
    this.lastSeen.set(key, this.clock.now());
    if (this.lastSeen.size > this.maxEntries) {
      const oldest = this.lastSeen.keys().next();
      if (oldest.done !== true) this.lastSeen.delete(oldest.value);
    }
  }

  /** Active call count per edge, after dropping calls quiet for longer than the window. */
  countByEdge(): Map<string, number> {
    const cutoff = this.clock.now() - this.windowMs;
    for (const [key, at] of this.lastSeen) {
      if (at >= cutoff) break;
      this.lastSeen.delete(key);
    }
    const counts = new Map<string, number>();
    for (const key of this.lastSeen.keys()) {
      const edge = key.slice(0, key.indexOf(' '));
      counts.set(edge, (counts.get(edge) ?? 0) + 1);
    }
    return counts;
  }
}
