// The default number of event loops is the number of CPUs the process may use (issue 12): its
// affinity mask (taskset) and its cgroup's CPU quota, not the machine's core count. The
// listening line says how many loops started and why.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';

import {ActionCable, recordedSubscription} from '../support/actioncable.mjs';
import {cablecastBin} from '../support/paths.mjs';
import {startLibraryProgram} from '../support/servers.mjs';

const machineCpus = os.availableParallelism?.() ?? os.cpus().length;
const serveArgs = ['serve', '--port', '0', '--log-level', 'info'];

function listeningLine(server) {
  return server.logs.find((l) => /listening on/.test(l)) ?? '';
}

function loopCount(server) {
  const m = listeningLine(server).match(/(\d+) event loops/);
  assert.ok(m, `no loop count in: ${listeningLine(server)}`);
  return Number(m[1]);
}

// The server answers the official client: the loops it started serve.
async function assertServes(server, t) {
  const consumer = ActionCable.createConsumer(`${server.url}?user=cpu`);
  t.after(() => consumer.disconnect());
  const room = recordedSubscription(consumer, {channel: 'ChatChannel', room: 'cpus'});
  await room.waitFor('connected');
  room.subscription.perform('speak', {text: 'on the CPUs given'});
  assert.equal((await room.waitFor('received', (m) => m.text !== undefined)).text, 'on the CPUs given');
  consumer.disconnect();
}

test('under taskset -c 0 the server starts one event loop, and says why', async (t) => {
  const server = await startLibraryProgram('taskset', ['-c', '0', cablecastBin, ...serveArgs],
                                           {kind: 'cablecast'});
  t.after(() => server.stop());
  assert.equal(loopCount(server), 1);
  if (machineCpus > 1) assert.match(listeningLine(server), new RegExp(`affinity mask: 1 of the machine's ${machineCpus} CPUs`));
  await assertServes(server, t);
  assert.equal(await server.stop(), 0);
});

test('without limits the server starts one event loop per CPU of the machine', async (t) => {
  const server = await startLibraryProgram(cablecastBin, serveArgs, {kind: 'cablecast'});
  t.after(() => server.stop());
  // This test process's own affinity is what the server inherits.
  assert.equal(loopCount(server), machineCpus);
  assert.equal(await server.stop(), 0);
});

test('--threads overrides the CPUs found', async (t) => {
  const server = await startLibraryProgram('taskset', ['-c', '0', cablecastBin, ...serveArgs, '--threads', '3'],
                                           {kind: 'cablecast'});
  t.after(() => server.stop());
  assert.equal(loopCount(server), 3);
  assert.match(listeningLine(server), /3 event loops \(--threads\)/);
  assert.equal(await server.stop(), 0);
});

// A cgroup v1 "cpu" hierarchy this process may write (root in a VM or a privileged container);
// otherwise the quota test says why it cannot run here.
function writableCpuCgroup() {
  const v1 = '/sys/fs/cgroup/cpu';
  try {
    if (fs.existsSync(path.join(v1, 'cpu.cfs_quota_us'))) {
      const dir = fs.mkdtempSync(path.join(v1, 'cablecast-test-'));
      return {
        dir,
        limit(cpus) {
          fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), '100000');
          fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(Math.round(cpus * 100000)));
        },
      };
    }
    const v2 = '/sys/fs/cgroup';
    const controllers = fs.readFileSync(path.join(v2, 'cgroup.subtree_control'), 'utf8');
    if (controllers.split(/\s+/).includes('cpu')) {
      const dir = fs.mkdtempSync(path.join(v2, 'cablecast-test-'));
      return {dir, limit(cpus) { fs.writeFileSync(path.join(dir, 'cpu.max'), `${Math.round(cpus * 100000)} 100000`); }};
    }
  } catch (e) {
    return {why: e.message};
  }
  return {why: 'no cgroup CPU controller is mounted where this test can write'};
}

test('in a cgroup with a CPU quota of 1.5 CPUs the server starts one event loop (rounded down)', async (t) => {
  if (machineCpus < 2) return t.skip('the machine has one CPU: a quota cannot lower the count');
  const cgroup = writableCpuCgroup();
  if (!cgroup.dir) return t.skip(`cannot create a cgroup here: ${cgroup.why}`);
  t.after(() => fs.rmdirSync(cgroup.dir));
  cgroup.limit(1.5);
  // The shell moves itself into the cgroup, then becomes the server.
  const server = await startLibraryProgram(
      'sh', ['-c', `echo $$ > ${cgroup.dir}/cgroup.procs && exec "$0" "$@"`, cablecastBin, ...serveArgs],
      {kind: 'cablecast'});
  t.after(() => server.stop());
  assert.equal(loopCount(server), 1);
  assert.match(listeningLine(server), /cgroup CPU quota 1\.50 \(rounded down\)/);
  await assertServes(server, t);
  assert.equal(await server.stop(), 0);
});

test('--pin-threads pins each event loop to its own CPU', async (t) => {
  if (machineCpus < 2) return t.skip('the machine has one CPU');
  const server = await startLibraryProgram(cablecastBin, [...serveArgs, '--threads', '2', '--pin-threads'],
                                           {kind: 'cablecast'});
  t.after(() => server.stop());
  assert.match(listeningLine(server), /2 event loops \(--threads, pinned\)/);
  const allowed = fs.readdirSync(`/proc/${server.proc.pid}/task`).map((tid) => {
    const status = fs.readFileSync(`/proc/${server.proc.pid}/task/${tid}/status`, 'utf8');
    return status.match(/^Cpus_allowed_list:\s*(\S+)/m)[1];
  });
  // One loop thread on CPU 0 and one on CPU 1; the other threads (broker, pools) are not pinned.
  assert.equal(allowed.filter((cpus) => cpus === '0').length, 1, allowed.join(' '));
  assert.equal(allowed.filter((cpus) => cpus === '1').length, 1, allowed.join(' '));
  assert.equal(await server.stop(), 0);
});
