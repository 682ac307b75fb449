/**
 * Who follows which channel (newsletter), kept per number so a relinked number keeps its
 * follows, and each channel's running server id (WhatsApp numbers a channel's posts 100, 101, …).
 */
export class ChannelFollowers {
  private readonly followers = new Map<string, Set<string>>();
  private readonly follows = new Map<string, Set<string>>();
  private readonly serverIds = new Map<string, number>();

  follow(phoneNumber: string, channelJid: string): void {
    addTo(this.followers, channelJid, phoneNumber);
    addTo(this.follows, phoneNumber, channelJid);
  }

  unfollow(phoneNumber: string, channelJid: string): boolean {
    this.followers.get(channelJid)?.delete(phoneNumber);
    return this.follows.get(phoneNumber)?.delete(channelJid) ?? false;
  }

  followersOf(channelJid: string): ReadonlySet<string> {
    return this.followers.get(channelJid) ?? new Set();
  }

  channelsOf(phoneNumber: string): string[] {
    return [...(this.follows.get(phoneNumber) ?? [])];
  }

  nextServerId(channelJid: string): string {
    const next = (this.serverIds.get(channelJid) ?? 99) + 1;
    this.serverIds.set(channelJid, next);
    return String(next);
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}
