/**
 * NATS subjects. WIRE-STABLE: renaming any of these breaks running fleets during a rolling
 * deploy. Everything lives under `<prefix>.v1.`; the prefix (NATS_PREFIX, default `wagw`) lets
 * test runs and tenants of one NATS share it without seeing each other.
 */
export const DEFAULT_NATS_PREFIX = 'wagw';

/** Queue group of the fleet: a fleet command reaches exactly one live worker. */
export const FLEET_QUEUE_GROUP = 'wagw-gateways';

export interface Subjects {
  /** Commands any worker may take (queue group). */
  fleet(pattern: string): string;
  /** Commands for the worker holding a session (or addressed by id). */
  gateway(gatewayId: string, pattern: string): string;
  /** Event subjects captured by the events stream. */
  event(type: string): string;
  eventsWildcard: string;
  eventsStream: string;
  /** Where a durable consumer moves an event it gave up on (see the README's dead letters). */
  deadLetter(durableName: string): string;
  deadLettersWildcard: string;
  deadLettersStream: string;
  /**
   * Reply subjects of a role's processes (`_INBOX.<prefix>.<role>`): the server's permissions
   * give each role its own inbox (deploy/nats/nats-server.conf), so none reads another's replies.
   */
  inbox(role: NatsRole): string;
}

/** Who connects to NATS; each role gets its own credentials and permissions. */
export type NatsRole = 'api' | 'gateway';

const SAFE_TOKEN = /^[A-Za-z0-9_-]+$/;

export function subjects(prefix: string = DEFAULT_NATS_PREFIX): Subjects {
  if (!SAFE_TOKEN.test(prefix)) throw new Error(`invalid NATS prefix: ${prefix}`);
  return {
    fleet: (pattern) => `${prefix}.v1.fleet.${pattern}`,
    gateway: (gatewayId, pattern) => {
      if (!SAFE_TOKEN.test(gatewayId)) throw new Error(`invalid gateway id: ${gatewayId}`);
      return `${prefix}.v1.gw.${gatewayId}.${pattern}`;
    },
    event: (type) => `${prefix}.v1.events.${type}`,
    eventsWildcard: `${prefix}.v1.events.>`,
    eventsStream: `${prefix.toUpperCase().replace(/-/g, '_')}_EVENTS`,
    deadLetter: (durableName) => {
      if (!SAFE_TOKEN.test(durableName)) throw new Error(`invalid durable name: ${durableName}`);
      return `${prefix}.v1.dead.${durableName}`;
    },
    deadLettersWildcard: `${prefix}.v1.dead.>`,
    deadLettersStream: `${prefix.toUpperCase().replace(/-/g, '_')}_DEAD_LETTERS`,
    inbox: (role) => `_INBOX.${prefix}.${role}`,
  };
}

export const isSafeGatewayId = (id: string): boolean => SAFE_TOKEN.test(id);
