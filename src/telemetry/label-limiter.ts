// Bounded label values. Prometheus keeps one series per label set, so an open label (codec, region,
// event name, call state, tag) may take at most `maxValues` distinct values per metric; later ones
// fold into `other` and are counted. A value that looks like a per-call identifier (a Twilio SID, a
// phone number, an IP address, a SIP/client URI) never becomes a label: DESIGN section 4 forbids
// per-call labels, and Twilio fields such as `edge` have been seen holding unexpected values.
export const OVERFLOW_VALUE = 'other';
export const UNKNOWN_VALUE = 'unknown';
const MAX_VALUE_LENGTH = 64;

const IDENTIFIER_PATTERNS: readonly RegExp[] = [
  /[A-Z]{2}[0-9a-f]{32}/i, // Twilio SIDs: CA…, AC…, EZ…
  /\d(?:[\s().-]*\d){6,}/, // 7+ digits: phone numbers, long numeric ids
  /\b\d{1,3}(?:\.\d{1,3}){3}\b/, // IPv4
  /[0-9a-f]{0,4}:[0-9a-f]{0,4}:[0-9a-f]{0,4}/i, // IPv6
  /^(?:client|sip|sips|tel):|@/i, // client identities, SIP URIs, e-mail-like
];

export function looksLikeIdentifier(value: string): boolean {
  return value.length > MAX_VALUE_LENGTH || IDENTIFIER_PATTERNS.some((p) => p.test(value));
}

export class LabelLimiter {
  private readonly seen = new Map<string, Set<string>>();

  constructor(
    private readonly maxValues: number,
    private readonly onOverflow: (metric: string, label: string) => void,
  ) {}

  /** The label value to record for `raw` (undefined and "" mean unknown). */
  value(metric: string, label: string, raw: string | undefined): string {
    if (raw === undefined || raw === '') return UNKNOWN_VALUE;
    const key = `${metric}\u0000${label}`;
    let values = this.seen.get(key);
    if (values === undefined) {
      values = new Set();
      this.seen.set(key, values);
    }
    if (values.has(raw)) return raw;
    if (values.size >= this.maxValues || looksLikeIdentifier(raw)) {
      this.onOverflow(metric, label);
      return OVERFLOW_VALUE;
    }
    values.add(raw);
    return raw;
  }

  /**
   * The label value for a label whose values Twilio documents as a closed list: a listed value as it
   * is, undefined and "" as unknown, anything else as `other` (counted like any fold). The list bounds
   * the label, so METRIC_LABEL_MAX_VALUES does not apply and preset series never compete with new ones.
   */
  oneOf(metric: string, label: string, raw: string | undefined, values: readonly string[]): string {
    if (raw === undefined || raw === '') return UNKNOWN_VALUE;
    if (values.includes(raw)) return raw;
    this.onOverflow(metric, label);
    return OVERFLOW_VALUE;
  }
}
