import type { SimMessageRecord, SimPresenceRecord } from '../web/messaging/message.store.js';
import type {
  PairingEntry,
  SimDeviceView,
  SimEviction,
  SimLinkResult,
  SimLiveConnection,
} from '../web/web-sim.views.js';

export interface WaSimConnections {
  items: SimLiveConnection[];
  pairing: PairingEntry[];
  evictions: SimEviction[];
}

export interface WaSimHealth {
  status: 'ok';
  /** WhatsApp Web sockets (any state). */
  connections: number;
  /** Linked devices with a live, logged-in connection. */
  linked: number;
  /** Linked devices, online or not. */
  devices: number;
  /** Sockets waiting for a phone (QR or pairing code). */
  pairing: number;
  memory: { rssBytes: number; heapUsedBytes: number; externalBytes: number };
}

export interface WaSimErrorEnvelope {
  error: { code: string; message: string; details: Record<string, unknown> };
}

/** A non-2xx answer of the control API, with its envelope. */
export class WaSimControlError extends Error {
  constructor(
    readonly status: number,
    readonly envelope: WaSimErrorEnvelope | null,
    method: string,
    path: string,
  ) {
    super(
      `${method} ${path} → ${status} ${envelope?.error.code ?? ''} ${envelope?.error.message ?? ''}`.trim(),
    );
    this.name = 'WaSimControlError';
  }

  get code(): string | undefined {
    return this.envelope?.error.code;
  }
}

/**
 * The one typed client of the sim's control API (`/sim/v1`), for tests, benchmarks and tools.
 * Every method is one route; see libs/wa-sim/README.md.
 */
export class WaSimControlClient {
  private readonly base: string;

  /** `controlUrl`: `http://host:port` (what `startWaSim` returns as `controlUrl`). */
  constructor(controlUrl: string) {
    this.base = controlUrl.replace(/\/+$/, '');
  }

  /** `gc`: collect garbage first (only when the sim runs with `--expose-gc`). */
  healthz(options: { gc?: boolean } = {}): Promise<WaSimHealth> {
    return this.request('GET', `/sim/v1/healthz${options.gc ? '?gc=true' : ''}`);
  }

  /** The root public key WhatsApp Web clients must trust (base64, 32 bytes). */
  rootKey(): Promise<{ publicKey: string }> {
    return this.request('GET', '/sim/v1/root-key');
  }

  /** The media host (`host:port`, HTTPS) and the certificate a sandbox client trusts for it. */
  mediaHost(): Promise<{ hostname: string; certificate: string }> {
    return this.request('GET', '/sim/v1/media-host');
  }

  connections(): Promise<WaSimConnections> {
    return this.request('GET', '/sim/v1/connections');
  }

  /** The phone scans the QR a companion shows (`https://wa.me/settings/linked_devices#...`). */
  scanQr(qr: string, phoneNumber: string): Promise<SimLinkResult> {
    return this.request('POST', '/sim/v1/qr:scan', { qr, phoneNumber });
  }

  enterPairingCode(code: string, phoneNumber: string): Promise<SimLinkResult> {
    return this.request('POST', '/sim/v1/pairing-codes:enter', { code, phoneNumber });
  }

  /** The phone `from` sends a text to the companion of `to`, `pn` (default) or `lid` addressed. */
  sendMessage(
    from: string,
    to: string,
    text: string,
    addressing?: 'pn' | 'lid',
  ): Promise<{ id: string; timestamp: number; delivery: 'delivered' | 'queued' }> {
    return this.request('POST', '/sim/v1/messages', { from, to, text, addressing });
  }

  /**
   * The phone `from` sends any content to the companion of `to`: `{ type: 'image', mimetype,
   * caption?, filename?, size?, sha256? }`, `{ type: 'location', latitude, longitude, name? }`,
   * `{ type: 'contact', displayName, vcard }`, `{ type: 'reaction', messageId, emoji }`,
   * `{ type: 'text', text, replyTo? }`.
   */
  sendContent(
    from: string,
    to: string,
    content: Record<string, unknown>,
    addressing?: 'pn' | 'lid',
  ): Promise<{ id: string; timestamp: number; delivery: 'delivered' | 'queued' }> {
    return this.request('POST', '/sim/v1/messages', { from, to, content, addressing });
  }

  message(id: string): Promise<SimMessageRecord> {
    return this.request('GET', `/sim/v1/messages/${encodeURIComponent(id)}`);
  }

  postToChannel(
    jid: string,
    text: string,
  ): Promise<{ id: string; timestamp: number; delivered: number; queued: number }> {
    return this.request('POST', `/sim/v1/channels/${encodeURIComponent(jid)}/posts`, { text });
  }

  async devices(): Promise<SimDeviceView[]> {
    return (await this.request<{ items: SimDeviceView[] }>('GET', '/sim/v1/devices')).items;
  }

  device(phoneNumber: string): Promise<SimDeviceView> {
    return this.request('GET', `/sim/v1/devices/${phoneNumber}`);
  }

  /** Ends the device's live connection as WhatsApp does for `code` (default 428). */
  disconnect(
    phoneNumber: string,
    code?: number,
  ): Promise<{ phoneNumber: string; clientId: string; code: number }> {
    return this.request(
      'POST',
      `/sim/v1/devices/${phoneNumber}:disconnect`,
      code === undefined ? undefined : { code },
    );
  }

  logout(
    phoneNumber: string,
  ): Promise<{ phoneNumber: string; loggedOut: true; wasConnected: boolean }> {
    return this.request('POST', `/sim/v1/devices/${phoneNumber}:logout`);
  }

  ban(phoneNumber: string): Promise<{ phoneNumber: string; banned: true; wasConnected: boolean }> {
    return this.request('POST', `/sim/v1/devices/${phoneNumber}:ban`);
  }

  unban(phoneNumber: string): Promise<{ phoneNumber: string; banned: false }> {
    return this.request('POST', `/sim/v1/devices/${phoneNumber}:unban`);
  }

  /** What the phone of `phoneNumber` received from linked companions (its own or others). */
  async receivedMessages(phoneNumber: string): Promise<SimMessageRecord[]> {
    return (
      await this.request<{ items: SimMessageRecord[] }>(
        'GET',
        `/sim/v1/devices/${phoneNumber}/messages`,
      )
    ).items;
  }

  readMessages(phoneNumber: string, ids?: string[]): Promise<{ read: number }> {
    return this.request(
      'POST',
      `/sim/v1/devices/${phoneNumber}/messages:read`,
      ids === undefined ? undefined : { ids },
    );
  }

  async presences(phoneNumber: string): Promise<SimPresenceRecord[]> {
    return (
      await this.request<{ items: SimPresenceRecord[] }>(
        'GET',
        `/sim/v1/devices/${phoneNumber}/presences`,
      )
    ).items;
  }

  followChannel(phoneNumber: string, jid: string): Promise<SimDeviceView> {
    return this.request('POST', `/sim/v1/devices/${phoneNumber}/channels`, { jid });
  }

  unfollowChannel(phoneNumber: string, jid: string): Promise<SimDeviceView> {
    return this.request(
      'DELETE',
      `/sim/v1/devices/${phoneNumber}/channels/${encodeURIComponent(jid)}`,
    );
  }

  /** Any route, for what the typed methods do not cover yet. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!res.ok)
      throw new WaSimControlError(
        res.status,
        (parsed as WaSimErrorEnvelope | undefined) ?? null,
        method,
        path,
      );
    return parsed as T;
  }
}
