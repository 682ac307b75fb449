import { randomBytes } from 'node:crypto';
import { nkeys } from '@nats-io/transport-node';

type KeyPair = ReturnType<typeof nkeys.createUser>;

/**
 * NATS's decentralised auth for a test server, without `nsc`: an operator, an account with
 * JetStream (and the system account JetStream needs), and users issued as `.creds` files.
 * JWTs are signed with the issuer's NKey as nats-server expects (`ed25519-nkey`).
 */
export class NatsOperator {
  private readonly operator = nkeys.createOperator();
  private readonly account = nkeys.createAccount();
  private readonly system = nkeys.createAccount();

  /** Server configuration: trust this operator, preload both accounts' JWTs. */
  serverConfig(): string {
    const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, conn: -1 };
    const account = this.sign(this.operator, this.account.getPublicKey(), 'WAGW', {
      type: 'account',
      limits: { ...unlimited, wildcards: true, leaf: -1, mem_storage: -1, disk_storage: -1 },
    });
    const system = this.sign(this.operator, this.system.getPublicKey(), 'SYS', {
      type: 'account',
      limits: { ...unlimited, wildcards: true, leaf: -1 },
    });
    return [
      `operator: ${this.sign(this.operator, this.operator.getPublicKey(), 'wagw-test', { type: 'operator' })}`,
      'resolver: MEMORY',
      `system_account: ${this.system.getPublicKey()}`,
      `resolver_preload: {`,
      `  ${this.account.getPublicKey()}: ${account}`,
      `  ${this.system.getPublicKey()}: ${system}`,
      `}`,
    ].join('\n');
  }

  /** A `.creds` file's content for a new user of the account. */
  userCreds(name: string): string {
    const user = nkeys.createUser();
    const jwt = this.sign(this.account, user.getPublicKey(), name, {
      type: 'user',
      pub: {},
      sub: {},
      subs: -1,
      data: -1,
      payload: -1,
    });
    const seed = new TextDecoder().decode(user.getSeed());
    return [
      '-----BEGIN NATS USER JWT-----',
      jwt,
      '------END NATS USER JWT------',
      '',
      '-----BEGIN USER NKEY SEED-----',
      seed,
      '------END USER NKEY SEED------',
      '',
    ].join('\n');
  }

  private sign(issuer: KeyPair, subject: string, name: string, nats: object): string {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const header = encode({ typ: 'JWT', alg: 'ed25519-nkey' });
    const claims = encode({
      jti: randomBytes(16).toString('hex').toUpperCase(),
      iat: Math.floor(Date.now() / 1000),
      iss: issuer.getPublicKey(),
      name,
      sub: subject,
      nats: { ...nats, version: 2 },
    });
    const signature = issuer.sign(new TextEncoder().encode(`${header}.${claims}`));
    return `${header}.${claims}.${Buffer.from(signature).toString('base64url')}`;
  }
}
