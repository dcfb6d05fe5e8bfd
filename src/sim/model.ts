// The simulator's vocabulary: call types, edges, flavours, codecs. Reference:
// /work/shared/reference/twilio-call-insights.md §3 ("Which edges exist per call type") and §4.1/§4.4.

export const CALL_TYPES = ['carrier', 'sip', 'client', 'trunking'] as const;
export type CallType = (typeof CALL_TYPES)[number];

export type GatewayEdge = 'carrier_edge' | 'sip_edge' | 'client_edge';
export type Edge = GatewayEdge | 'sdk_edge';

/** properties.direction as the data spells it, with underscores (§4.4). */
export type CallDirection =
  'inbound' | 'outbound_api' | 'outbound_dial' | 'trunking_originating' | 'trunking_terminating';

/** The direction of one media stream at a gateway edge (call-metrics `direction`, §3). */
export type StreamDirection = 'inbound' | 'outbound';

/** What can go wrong with a call; `good` is everything else. */
export const BAD_FLAVOURS = ['high_jitter', 'high_packet_loss', 'low_mos', 'failed', 'silence'] as const;
export type BadFlavour = (typeof BAD_FLAVOURS)[number];
export type Flavour = 'good' | BadFlavour;

/**
 * Edges per call type (§3, REST default/additional edges): carrier -> carrier_edge; sip -> sip_edge;
 * client -> sdk_edge + client_edge; trunking originating -> carrier_edge + sip_edge, terminating ->
 * sip_edge + carrier_edge.
 */
export function edgesFor(type: CallType, direction: CallDirection): readonly Edge[] {
  switch (type) {
    case 'carrier':
      return ['carrier_edge'];
    case 'sip':
      return ['sip_edge'];
    case 'client':
      return ['sdk_edge', 'client_edge'];
    case 'trunking':
      return direction === 'trunking_terminating' ? ['sip_edge', 'carrier_edge'] : ['carrier_edge', 'sip_edge'];
  }
}

export function isGatewayEdge(edge: Edge): edge is GatewayEdge {
  return edge !== 'sdk_edge';
}

export interface Codec {
  /** As summaries spell it (lowercase, §4.3 example "pcmu"). */
  name: 'pcmu' | 'pcma' | 'opus';
  /** RTP payload type: 0 PCMU, 8 PCMA, 111 (dynamic) Opus, as in the fixtures. */
  payloadType: number;
  /** Bytes on the wire per 20 ms packet (payload + 12-byte RTP header), for the SDK's byte counters. */
  bytesPerPacket: number;
}

export const CODECS: Readonly<Record<Codec['name'], Codec>> = Object.freeze({
  pcmu: { name: 'pcmu', payloadType: 0, bytesPerPacket: 172 },
  pcma: { name: 'pcma', payloadType: 8, bytesPerPacket: 172 },
  opus: { name: 'opus', payloadType: 111, bytesPerPacket: 168 },
});

/** 20 ms packetisation: 50 packets a second per stream (the REST sdk_edge sample shows packets_received 50, §3). */
export const PACKETS_PER_SECOND = 50;
