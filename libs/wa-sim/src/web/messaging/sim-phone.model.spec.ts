import { describe, expect, it } from '@jest/globals';
import { BaileysCompanionFixture } from './baileys-companion.fixture.js';
import { SimPhone, type PreKeyBundle } from './sim-phone.model.js';

const PHONE_JID = '100000000000001@lid';
const COMPANION_JID = '100000000000002:7@lid';

/** A bundle fetch from the companion's uploaded keys, one one-time prekey per fetch. */
function bundleOf(companion: BaileysCompanionFixture): () => PreKeyBundle {
  return () => {
    const { preKeys, ...keys } = companion.uploaded;
    const [keyId, publicKey] = preKeys.entries().next().value as [number, Buffer];
    preKeys.delete(keyId);
    return { ...keys, preKey: { keyId, publicKey } };
  };
}

describe('SimPhone', () => {
  it('decrypts a companion pkmsg made from its bundle and answers on that session with msg', async () => {
    const phone = new SimPhone('6281111111111', PHONE_JID);
    const peer = new BaileysCompanionFixture();
    await peer.startSession(PHONE_JID, phone.preKeyBundle());
    const first = await peer.encrypt(PHONE_JID, { conversation: 'hello phone' });
    expect(first.type).toBe('pkmsg');
    expect((await phone.decrypt(COMPANION_JID, first)).conversation).toBe('hello phone');
    phone.noteSessionIdentity(COMPANION_JID, peer.uploaded.identityKey);

    const reply = await phone.encrypt(
      COMPANION_JID,
      peer.uploaded.identityKey,
      { conversation: 'hi companion' },
      () => undefined,
    );
    expect(reply.type).toBe('msg');
    expect((await peer.decrypt(PHONE_JID, reply)).conversation).toBe('hi companion');
  });

  it('starts a session from the companion bundle: pkmsg until the companion answers, then msg', async () => {
    const phone = new SimPhone('6281111111112', PHONE_JID);
    const peer = new BaileysCompanionFixture();
    const bundle = bundleOf(peer);
    const send = (text: string) =>
      phone.encrypt(COMPANION_JID, peer.uploaded.identityKey, { conversation: text }, bundle);

    const one = await send('one');
    const two = await send('two');
    expect([one.type, two.type]).toEqual(['pkmsg', 'pkmsg']);
    expect((await peer.decrypt(PHONE_JID, one)).conversation).toBe('one');
    expect((await peer.decrypt(PHONE_JID, two)).conversation).toBe('two');
    expect(peer.uploaded.preKeys.size).toBe(4);

    const answer = await peer.encrypt(PHONE_JID, { conversation: 'got them' });
    expect(answer.type).toBe('msg');
    expect((await phone.decrypt(COMPANION_JID, answer)).conversation).toBe('got them');

    const three = await send('three');
    expect(three.type).toBe('msg');
    expect((await peer.decrypt(PHONE_JID, three)).conversation).toBe('three');
  });

  it('builds a new session when the number was relinked to a companion with another identity', async () => {
    const phone = new SimPhone('6281111111113', PHONE_JID);
    const before = new BaileysCompanionFixture();
    await phone.encrypt(
      COMPANION_JID,
      before.uploaded.identityKey,
      { conversation: 'a' },
      bundleOf(before),
    );
    const after = new BaileysCompanionFixture();
    const enc = await phone.encrypt(
      COMPANION_JID,
      after.uploaded.identityKey,
      { conversation: 'b' },
      bundleOf(after),
    );
    expect(enc.type).toBe('pkmsg');
    expect((await after.decrypt(PHONE_JID, enc)).conversation).toBe('b');
  });

  it('uses the account identity it is given, so the ADV signature key is its Signal identity', () => {
    const phone = new SimPhone('6281111111114', PHONE_JID);
    const other = new SimPhone('6281111111115', PHONE_JID, {
      keyPair: phone.identityKeyPair,
      registrationId: 77,
    });
    const bundle = other.preKeyBundle();
    expect(Buffer.from(bundle.identityKey)).toEqual(Buffer.from(phone.identityKeyPair.public));
    expect(bundle.registrationId).toBe(77);
  });
});
