// What a benchmark's Baileys socket came to.

/** Resolves with 'open' or the close code, whichever comes first; `onQr` sees each QR. */
export function outcome(sock, onQr) {
  return new Promise((resolve) => {
    sock.ev.on('connection.update', (u) => {
      if (u.qr && onQr) onQr(u.qr);
      if (u.connection === 'open') resolve('open');
      if (u.connection === 'close') resolve(u.lastDisconnect?.error?.output?.statusCode ?? -1);
    });
  });
}
