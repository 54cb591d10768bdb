// lib.js — what tests/serve/client.js and load.js share: start `lmscope serve` on 127.0.0.1 with
// port 0, read the port from its "listening" line, stop it with a signal and check that it exits 0.
'use strict';
const { spawn } = require('node:child_process');

const running = new Set(); // servers started and not yet stopped: killed by fail()

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  for (const p of running) p.kill('SIGKILL');
  process.exit(1);
}

// `timeout` (tests/cli/serve.sh) ends a stuck test with SIGTERM: take the servers along
process.on('SIGTERM', () => fail('stopped by SIGTERM (the time limit)'));

function check(cond, msg) {
  if (!cond) fail(msg);
}

// Start the server; resolves to {port, proc, stderr()} once it prints its listening line.
function startServer(lmscope, args, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const proc = spawn(lmscope, ['serve', '--host', '127.0.0.1', '--port', '0', '--threads', '1', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(proc);
    proc.on('exit', () => running.delete(proc));
    let out = '', err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`no listening line after ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^lmscope serve: listening on http:\/\/127\.0\.0\.1:(\d+)\/v1 /m);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), proc, stderr: () => err });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`lmscope serve exited ${code} before listening; stderr: ${err}`));
    });
  });
}

// Send sig and wait for the exit; resolves to {code, signal, stderr}.
function stopServer(server, sig = 'SIGTERM', timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    server.proc.removeAllListeners('exit');
    const timer = setTimeout(() => {
      server.proc.kill('SIGKILL');
      reject(new Error(`lmscope serve did not stop within ${timeoutMs} ms of ${sig}`));
    }, timeoutMs);
    server.proc.on('exit', (code, signal) => {
      running.delete(server.proc);
      clearTimeout(timer);
      resolve({ code, signal, stderr: server.stderr() });
    });
    server.proc.kill(sig);
  });
}

module.exports = { fail, check, startServer, stopServer };
