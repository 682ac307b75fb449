import { Agent } from 'node:https';
import { trustSandboxRootKey } from '../baileys-connection.factory.js';

/** Where a sandbox (wa-sim) serves WhatsApp Web and its root key, from its base URL. */
export interface SandboxEndpoints {
  /** `ws(s)://host:port/ws/chat`: what Baileys' `waWebSocketUrl` points at. */
  webSocketUrl: string;
  /** `http(s)://host:port/sim/v1/root-key`: the key the sim issues its certificates under. */
  rootKeyUrl: string;
  /** `http(s)://host:port/sim/v1/media-host`: the media host and its certificate. */
  mediaHostUrl: string;
}

/**
 * `WA_SIM_URL` is the sim's base URL; only its origin counts, so `http://sim:8090`,
 * `ws://sim:8090` and `http://sim:8090/sim/v1` name the same sandbox.
 */
export function sandboxEndpoints(baseUrl: string): SandboxEndpoints {
  const url = new URL(baseUrl);
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol))
    throw new RangeError(`WA_SIM_URL must be an http(s) or ws(s) URL, not ${url.protocol}`);
  return {
    webSocketUrl: `${secure ? 'wss' : 'ws'}://${url.host}/ws/chat`,
    rootKeyUrl: `${secure ? 'https' : 'http'}://${url.host}/sim/v1/root-key`,
    mediaHostUrl: `${secure ? 'https' : 'http'}://${url.host}/sim/v1/media-host`,
  };
}

/**
 * Trusts the sandbox's root key before a connection needs it: fetched once, on first use, and
 * fetched again after a failure (the sim may start after the gateway). Until it succeeds each
 * connect fails with a reason that names the URL to check.
 */
export function sandboxTrust(rootKeyUrl: string, timeoutMs = 5_000): () => Promise<void> {
  let trusted: Promise<void> | null = null;
  return () => {
    trusted ??= fetchRootKey(rootKeyUrl, timeoutMs).then(trustSandboxRootKey);
    return trusted.catch((error: unknown) => {
      trusted = null;
      throw new Error(
        `cannot reach the sandbox's root key at ${rootKeyUrl}: ${(error as Error).message}; check WA_SIM_URL and that wa-sim runs`,
      );
    });
  };
}

async function fetchRootKey(url: string, timeoutMs: number): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const body = (await response.json()) as { publicKey?: unknown };
  if (typeof body.publicKey !== 'string') throw new Error('no publicKey in the answer');
  return body.publicKey;
}

/**
 * Sandbox only: the media host's certificate (self-signed by the sim), trusted by one HTTPS agent
 * that Baileys uses for media uploads and downloads, and for nothing else. The real network never
 * gets this agent: Baileys' media traffic there keeps Node's default trust. Fetched on first use
 * and again after a failure; a sim without a media host leaves media sends to fail on their own.
 */
export class SandboxMediaTrust {
  private agentInUse: Agent | undefined;
  private fetching: Promise<void> | null = null;

  constructor(
    private readonly mediaHostUrl: string,
    private readonly timeoutMs = 5_000,
  ) {}

  /** Resolves once the certificate is known, or the attempt failed (then retried next time). */
  prepare(): Promise<void> {
    if (this.agentInUse) return Promise.resolve();
    this.fetching ??= this.fetchCertificate()
      .then((ca) => {
        this.agentInUse = new Agent({ ca, keepAlive: true });
      })
      .catch(() => undefined)
      .finally(() => {
        this.fetching = null;
      });
    return this.fetching;
  }

  agent(): Agent | undefined {
    return this.agentInUse;
  }

  private async fetchCertificate(): Promise<string> {
    const response = await fetch(this.mediaHostUrl, {
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = (await response.json()) as { certificate?: unknown };
    if (typeof body.certificate !== 'string' || !body.certificate.includes('BEGIN CERTIFICATE'))
      throw new Error('no certificate in the answer');
    return body.certificate;
  }
}
