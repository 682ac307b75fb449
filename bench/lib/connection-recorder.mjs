/**
 * A WaConnectionListener that records what the connection reports (QR, open, close) and wakes
 * a waiter on each: `await listener.until(() => listener.seen.opened)`.
 */
export function connectionRecorder() {
  const seen = { qr: null, opened: false, closed: null };
  let wake = () => {};
  const until = async (check) => {
    while (!check()) await new Promise((r) => (wake = r));
  };
  const note = (update) => {
    Object.assign(seen, update);
    wake();
  };
  return {
    seen,
    until,
    onQr: ({ qr }) => note({ qr }),
    onOpen: () => note({ opened: true }),
    onClose: ({ code }) => note({ closed: code }),
    onMessage: async () => {},
    onReceipt: async () => {},
    onChannelMessage: async () => {},
  };
}
