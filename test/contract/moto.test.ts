/**
 * The adapter contract suite against moto 5.2 (`python3 -m moto.server`), started on a free loopback port
 * for this file and stopped afterwards. Skipped, with the reason in its name, where moto is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe } from 'vitest';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createAwsClients, type AwsClients } from '../../functions/_core/adapters/aws/clients.ts';
import { defineContractSuite } from './suite.ts';

// Whether python3 can import moto, asked without importing it (find_spec: half the CPU of `import moto`).
const motoAvailable = spawnSync('python3', ['-c', "import importlib.util, sys; sys.exit(importlib.util.find_spec('moto') is None)"], { stdio: 'ignore' }).status === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`moto.server exited with ${proc.exitCode} before it was ready`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto.server not ready at ${url} after ${timeoutMs} ms`);
}

if (!motoAvailable) {
  describe.skip("adapter contract: moto (skipped: python3 finds no module moto; install moto[server] 5.2 to run it)", () => {});
} else {
  let proc: ChildProcess | undefined;
  let clients: AwsClients | undefined;
  let ssm: SSMClient | undefined;

  beforeAll(async () => {
    const port = await freePort();
    proc = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitFor(`http://127.0.0.1:${port}/moto-api/data.json`, proc, 15_000);
    const overrides = { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    clients = createAwsClients({ overrides });
    ssm = new SSMClient(overrides);
  });

  afterAll(async () => {
    clients?.destroy();
    ssm?.destroy();
    const p = proc;
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
  });

  defineContractSuite('moto', () => {
    if (!clients || !ssm) throw new Error('moto did not start');
    return { clients, ssm, advance: async () => {} };
  });
}
