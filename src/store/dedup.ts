// Dedup of CloudEvent ids. Twilio Event Streams delivers at least once and retries for up to 4 hours
// (https://www.twilio.com/docs/events/event-delivery-and-duplication), so an id must be remembered
// for longer than that. The interface is async so a shared store (Redis/Valkey, several replicas)
// or the durable embedded store can implement it unchanged.
export interface DedupStore {
  /** True when the id was remembered within the TTL. */
  has(id: string): Promise<boolean>;
  /** Remember ids once their events are recorded; called only after recording succeeded. */
  remember(ids: readonly string[]): Promise<void>;
  /** How many ids are held now (for self-metrics). */
  size(): number;
}
