/**
 * What the WhatsApp Web side reports through the control API: devices, live and pairing
 * connections, evictions, links. Plain data, no Baileys: the control client imports these.
 */

/** What the sim logs through; a pino logger fits. */
export interface WaSimLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A linked companion device as the control API shows it. */
export interface SimDeviceView {
  phoneNumber: string;
  /** The companion's JID, `<phone>:<device>@s.whatsapp.net`. */
  waJid: string;
  /** The companion's LID, `<lid user>:<device>@lid`. */
  waLid: string;
  linkedAt: number;
  connected: boolean;
  clientId: string | null;
  /** Stanzas pushed to the companion and not acknowledged by it yet. */
  queued: number;
  banned: boolean;
  channels: string[];
}

/** The phone linked a companion (QR scan or pairing code). */
export interface SimLinkResult {
  phoneNumber: string;
  /** The account's own JIDs (without the companion's device part). */
  waJid: string;
  waLid: string;
  /** The client whose pairing connection got linked. */
  clientId: string;
}

export interface SimLiveConnection {
  phoneNumber: string;
  clientId: string;
  since: number;
}

/** A companion connection waiting for a phone: showing QR refs, or a pairing code. */
export interface PairingEntry {
  clientId: string;
  since: number;
  mode: 'qr' | 'code';
  /** When the current QR ref expires; null for a code. */
  expiresAt: number | null;
  /** The number a pairing code was requested for. */
  phoneNumber: string | null;
}

/** A second login of a device replaced the first (440). */
export interface SimEviction {
  phoneNumber: string;
  evictedClientId: string;
  byClientId: string;
  at: number;
}
