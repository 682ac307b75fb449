import {
  encodeBigEndian,
  getBinaryNodeChild,
  getBinaryNodeChildren,
  type BinaryNode,
} from '@whiskeysockets/baileys';
import type { WebSimContext } from '../messaging.port.js';
import type { PreKeyBundle } from './sim-phone.model.js';
import type { SimPhoneRegistry } from './sim-phone.registry.js';

const KEY_TYPE = Buffer.from([5]);

/**
 * The messaging iq: prekey bundles (`encrypt` get `<key>`) for simulated phones and linked
 * companions. Everything else (usync included) is the transport's.
 */
/** Where clients upload media: what `media_conn` hands out. */
export interface MediaConn {
  hostname: string;
  auth: string;
  maxUploadBytes: number;
}

export class MessagingIqResponder {
  constructor(
    private readonly phones: SimPhoneRegistry,
    private readonly context: () => WebSimContext,
    private readonly mediaConn: () => MediaConn | undefined = () => undefined,
  ) {}

  answer(node: BinaryNode): BinaryNode | undefined {
    const { xmlns, type } = node.attrs;
    if (xmlns === 'w:m' && getBinaryNodeChild(node, 'media_conn'))
      return this.mediaConnAnswer(node);
    const key = getBinaryNodeChild(node, 'key');
    if (xmlns !== 'encrypt' || type !== 'get' || !key) return undefined;
    const users: BinaryNode[] = [];
    for (const user of getBinaryNodeChildren(key, 'user')) {
      const jid = user.attrs.jid;
      const bundle = jid ? this.bundleFor(jid) : undefined;
      // A device the network does not know is left out: an error node would fail the whole
      // fetch in the client, a missing one fails only that device.
      if (jid && bundle) users.push(bundleNode(jid, bundle));
    }
    return {
      tag: 'iq',
      attrs: { id: node.attrs.id ?? '', type: 'result', from: 's.whatsapp.net' },
      content: [{ tag: 'list', attrs: {}, content: users }],
    };
  }

  /**
   * `iq set w:m <media_conn/>` (Baileys' `refreshMediaConn`): the upload hosts and the auth
   * token, valid `ttl` seconds. Without a media host the iq gets WhatsApp's error, not a result
   * Baileys would misread.
   */
  private mediaConnAnswer(node: BinaryNode): BinaryNode {
    const conn = this.mediaConn();
    const id = node.attrs.id ?? '';
    if (!conn) {
      return {
        tag: 'iq',
        attrs: { id, type: 'error', from: 's.whatsapp.net' },
        content: [{ tag: 'error', attrs: { code: '503', text: 'service-unavailable' } }],
      };
    }
    return {
      tag: 'iq',
      attrs: { id, type: 'result', from: 's.whatsapp.net' },
      content: [
        {
          tag: 'media_conn',
          attrs: { auth: conn.auth, ttl: '300', auth_ttl: '21600', max_buckets: '12' },
          content: [
            {
              tag: 'host',
              attrs: {
                hostname: conn.hostname,
                maxContentLengthBytes: String(conn.maxUploadBytes),
              },
            },
          ],
        },
      ],
    };
  }

  private bundleFor(jid: string): PreKeyBundle | undefined {
    const target = this.phones.resolve(jid);
    if (!target) return undefined;
    if (target.device === 0) return this.phones.get(target.phoneNumber).preKeyBundle();
    return companionBundle(this.context(), target.phoneNumber, target.device);
  }
}

/** A linked companion's bundle from the keys it uploaded, taking one one-time prekey. */
export function companionBundle(
  context: WebSimContext,
  phoneNumber: string,
  deviceId?: number,
): PreKeyBundle | undefined {
  const device = context.device(phoneNumber);
  if (!device || (deviceId !== undefined && device.deviceId !== deviceId)) return undefined;
  const { keys } = device;
  const preKey = context.takePreKey(phoneNumber);
  return {
    registrationId: keys.registrationId,
    identityKey: keys.identityKey,
    signedPreKey: keys.signedPreKey,
    ...(preKey ? { preKey } : {}),
  };
}

function bundleNode(jid: string, bundle: PreKeyBundle): BinaryNode {
  const { signedPreKey, preKey } = bundle;
  const content: BinaryNode[] = [
    { tag: 'registration', attrs: {}, content: encodeBigEndian(bundle.registrationId, 4) },
    { tag: 'type', attrs: {}, content: KEY_TYPE },
    { tag: 'identity', attrs: {}, content: bundle.identityKey },
    {
      tag: 'skey',
      attrs: {},
      content: [
        { tag: 'id', attrs: {}, content: encodeBigEndian(signedPreKey.keyId, 3) },
        { tag: 'value', attrs: {}, content: signedPreKey.publicKey },
        { tag: 'signature', attrs: {}, content: signedPreKey.signature },
      ],
    },
  ];
  if (preKey) {
    content.push({
      tag: 'key',
      attrs: {},
      content: [
        { tag: 'id', attrs: {}, content: encodeBigEndian(preKey.keyId, 3) },
        { tag: 'value', attrs: {}, content: preKey.publicKey },
      ],
    });
  }
  return { tag: 'user', attrs: { jid }, content };
}
