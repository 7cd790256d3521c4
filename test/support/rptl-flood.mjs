// An RPTL flood in a process of its own, so that the test process stays free to pace its calls
// and read its sockets: `node rptl-flood.mjs <host> <port> <sockets> <perSecond> <ms>`. Each RPTL
// (8 bytes: "RPTL" and a random peer ID) goes out from the next of <sockets> bound UDP sockets;
// replies are read and dropped. Prints one JSON line, {"sent": n, "ms": elapsed}, and exits.
import dgram from 'node:dgram';

const [host, portText, socketsText, rateText, msText] = process.argv.slice(2);
const port = Number(portText);
const rate = Number(rateText);
const durationMs = Number(msText);
const sockets = [];
for (let i = 0; i < Number(socketsText); i++) {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, host, r));
  s.on('message', () => {});
  sockets.push(s);
}
const rptl = (id) => {
  const b = Buffer.from('RPTL\0\0\0\0', 'latin1');
  b.writeUInt32BE(id, 4);
  return b;
};
process.stdout.write('ready\n');
let sent = 0;
let k = 0;
const t0 = Date.now();
const total = Math.floor((rate * durationMs) / 1000);
await new Promise((done) => {
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate));
    while (sent < due) {
      sockets[k++ % sockets.length].send(rptl(((Math.random() * 0xfffffff0) >>> 0) || 1), port, host);
      sent++;
    }
    if (sent >= total) {
      clearInterval(timer);
      done();
    }
  }, 10);
});
await new Promise((r) => setTimeout(r, 200));
process.stdout.write(JSON.stringify({ sent, ms: Date.now() - t0 }) + '\n');
for (const s of sockets) s.close();
