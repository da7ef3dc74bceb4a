// Drives Rocket.Chat's JavaScript client (@rocket.chat/ddp-client) from a test, one JSON line per command.
//
//   node driver.js <http-base-url> <username> <password>
//
// It connects, logs in with the SHA-256 digest as Rocket.Chat's web client does, prints {"op":"login"},
// then reads commands from stdin and answers each on stdout with the command's "ref":
//   {"ref":1,"op":"stream","name":"room-messages","key":"<rid>"}   -> {"ref":1,"op":"ready"} or "error"
//   {"ref":2,"op":"call","method":"sendMessage","params":[...]}   -> {"ref":2,"op":"result","result":...}
//   {"ref":3,"op":"rest","method":"post","path":"/v1/chat.react","body":{...}} -> result
//   {"ref":4,"op":"stop","stream":1}                               -> {"ref":4,"op":"stopped"}
// Stream events are printed as {"op":"event","stream":<ref>,"args":[...]}.
'use strict';

globalThis.WebSocket = require('ws');
const crypto = require('node:crypto');
const readline = require('node:readline');
const { DDPSDK } = require('@rocket.chat/ddp-client');

const [url, username, password] = process.argv.slice(2);
const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const streams = new Map();

async function handle(sdk, cmd) {
  const { ref } = cmd;
  try {
    if (cmd.op === 'stream') {
      const sub = sdk.stream(cmd.name, cmd.key, (...args) => out({ op: 'event', stream: ref, args }));
      streams.set(ref, sub);
      await sub.ready();
      out({ ref, op: 'ready' });
    } else if (cmd.op === 'call') {
      out({ ref, op: 'result', result: (await sdk.call(cmd.method, ...cmd.params)) ?? null });
    } else if (cmd.op === 'rest') {
      out({ ref, op: 'result', result: await sdk.rest[cmd.method](cmd.path, cmd.body) });
    } else if (cmd.op === 'stop') {
      streams.get(cmd.stream).stop();
      streams.delete(cmd.stream);
      out({ ref, op: 'stopped' });
    } else {
      out({ ref, op: 'error', error: `unknown op ${cmd.op}` });
    }
  } catch (err) {
    const body = typeof err?.json === 'function' ? await err.json().catch(() => null) : null;
    out({ ref, op: 'error', error: body ?? err?.error ?? err?.message ?? String(err) });
  }
}

async function main() {
  const sdk = await DDPSDK.createAndConnect(url);
  const digest = crypto.createHash('sha256').update(password).digest('hex');
  await sdk.account.loginWithPassword(username, digest);
  out({ op: 'login', uid: sdk.account.uid });
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => void handle(sdk, JSON.parse(line)));
  lines.on('close', () => process.exit(0));
}

main().catch((err) => {
  out({ op: 'fatal', error: err?.error ?? err?.message ?? String(err) });
  process.exit(1);
});
