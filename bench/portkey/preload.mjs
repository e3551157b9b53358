// Loaded into the Portkey gateway process by bench/run (node --import). Portkey 1.15.2 on
// Node 20 answers every streaming request with {"status":"failure","message":"Something went
// wrong"}: after mapping a stream it edits its headers (appends x-portkey-*, deletes
// content-encoding/content-length) on a Response whose headers are immutable, and undici throws
// "TypeError: immutable" (Portkey-AI/gateway#1389, #1550). This shim turns such an edit into a
// no-op, so streams work and keep the upstream's headers; nothing else in Portkey changes. The
// benchmark upstream's streams are chunked, so there is no Content-Length left to delete.
for (const method of ['append', 'set', 'delete']) {
  const original = Headers.prototype[method];
  Headers.prototype[method] = function editUnlessImmutable(...args) {
    try {
      return original.apply(this, args);
    } catch (err) {
      if (err instanceof TypeError && err.message === 'immutable') return undefined;
      throw err;
    }
  };
}
