import type { CommandContract, Subjects } from '@wagw/contracts';

/**
 * The subject a command travels on: fleet commands on the fleet subject (queue group), owner
 * commands on the owning gateway's subject. An owner command without a gateway id is a bug in
 * the caller, never a runtime condition, hence a plain throw.
 */
export function commandSubject(
  s: Subjects,
  command: CommandContract<unknown, unknown>,
  gatewayId: string | undefined,
): string {
  switch (command.scope) {
    case 'fleet':
      return s.fleet(command.pattern);
    case 'owner':
      if (gatewayId === undefined || gatewayId === '') {
        throw new Error(`owner command ${command.pattern} needs options.gatewayId`);
      }
      return s.gateway(gatewayId, command.pattern);
  }
}
