export const CAPABILITIES = ['manage', 'send', 'admin'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Capabilities an API key may be created with (`admin` only through the operator CLI). */
export const API_KEY_CAPABILITIES = ['manage', 'send'] as const satisfies readonly Capability[];

export const isCapability = (value: unknown): value is Capability =>
  typeof value === 'string' && (CAPABILITIES as readonly string[]).includes(value);

/** Login roles → capabilities (spec: owner/admin → manage + send; member → send; else none). */
export function capabilitiesForRole(role: unknown): Capability[] {
  switch (role) {
    case 'owner':
    case 'admin':
      return ['manage', 'send'];
    case 'member':
      return ['send'];
    default:
      return [];
  }
}
