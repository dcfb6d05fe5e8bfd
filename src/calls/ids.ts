// Deterministic trace and span ids, so every process, before or after a restart, that emits data
// for a call lands in the same trace, and a user finds the trace by CallSid (DESIGN section 5).
import { createHash } from 'node:crypto';

/** A CallSid or a ConferenceSid: two letters and 32 hex digits. */
const TRACE_SID = /^(?:CA|CF)([0-9a-fA-F]{32})$/;

/**
 * The sid's 32 hex digits lowercased (CA or CF + 32 hex is exactly 128 bits), so a call's trace is
 * found by its CallSid and a conference's by its ConferenceSid; other sids are hashed.
 */
export function traceIdFor(callSid: string): string {
  const m = TRACE_SID.exec(callSid);
  const hex = m?.[1] !== undefined ? m[1].toLowerCase() : sha256Hex(`sid:${callSid}`).slice(0, 32);
  // An all-zero trace id is invalid in W3C trace context; only a hashed id could (astronomically) be one.
  return /^0+$/.test(hex) ? '0'.repeat(31) + '1' : hex;
}

/** The call's root span id. */
export function rootSpanIdFor(callSid: string): string {
  return spanId(`root:${callSid}`);
}

/** A late child span's id, from the CloudEvent that carried the late data (a redelivery maps to the same span). */
export function lateSpanIdFor(callSid: string, eventId: string): string {
  return spanId(`late:${callSid}:${eventId}`);
}

/**
 * A conference participant's span, in the conference's trace. Derived from the participant, so the
 * leg's call root span can link to it before or after it was built, in any process.
 */
export function participantSpanIdFor(conferenceSid: string, participantKey: string): string {
  return spanId(`participant:${conferenceSid}:${participantKey}`);
}

function spanId(seed: string): string {
  const hex = sha256Hex(seed).slice(0, 16);
  return /^0+$/.test(hex) ? '0'.repeat(15) + '1' : hex;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
