// Redaction of personal data inside free-text fields that Twilio does not promise to keep clean
// (an event's name, group, edge): with EXPOSE_PII off, phone numbers and IP addresses found in them
// never reach a span. Pure and deliberately greedy: a false positive costs a few characters of a name.

export const REDACTED = '[redacted]';

/** IPv6 candidates: hex groups and colons, optionally ending in an IPv4 address or a zone; judged by isIpv6. */
const IPV6_CANDIDATE = /(?:[0-9a-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4})(?:%[\w.-]+)?/gi;
const IPV4 = /(?<!\d)\d{1,3}(?:\.\d{1,3}){3}(?!\d)/g;
/** E.164 and national numbers: an optional "+", then seven or more digits with spaces, dots, dashes or parentheses between. */
const PHONE = /\+?\(?\d(?:[\s().-]{0,3}\d){6,}/g;

/** A compressed ("::") or full eight-group address with a digit in it; not a clock time (15:21:02) nor "sdk::warning". */
function isIpv6(candidate: string): boolean {
  return /\d/.test(candidate) && (candidate.includes('::') || candidate.split(':').length === 8);
}

/** `text` with every phone-number-like and IPv4/IPv6-like substring replaced by [redacted]. */
export function redactPii(text: string): string {
  return text
    .replace(IPV6_CANDIDATE, (match) => (isIpv6(match) ? REDACTED : match))
    .replace(IPV4, REDACTED)
    .replace(PHONE, REDACTED);
}
