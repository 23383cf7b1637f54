// Issue 12, item 7: two PBX nodes as production runs them. Run by call.mjs
// (--only cluster-failover).
//
//   cluster-failover  The demo PBX is restarted as a two-node cluster
//                     (pbx/pbx.sh with PBX_CLUSTER=1, then PBX_NODE=2):
//                     node 1 on 127.0.0.1, node 2 on 127.0.0.2, sharing
//                     registrations through DMQ. A (1005) has both servers,
//                     node 1 first; B (1006) has node 2 first. Both
//                     registrations are seen on both nodes. A calls B
//                     (node 1 -> node 2 -> B), sound both ways. Node 1 is
//                     killed (SIGKILL, as in a crash): A fails over to node 2
//                     and registers there (the failover time, from the kill
//                     to "registered", is measured on the page's clock), its target-refresh re-INVITE reaches B
//                     through node 2 and is answered, the call and its sound
//                     go on, and A hangs up (B sees the BYE). Then a new call
//                     to A through node 2 (B calls A), and one through node 1
//                     again: node 1 is started again, gets the location table
//                     from node 2 (DMQ sync), and C (1007, node 1 only) calls
//                     A, whose WebSocket is on node 2. Sound both ways each
//                     time. Whatever happens, the single PBX is started again
//                     at the end.
import {
  T, step, openPage, shot, waitPhone, waitReg, errorText, user, registerAll, callAndAnswer, audioBothWays,
  hangUp, energyOver, pbx, sleep,
} from './lib.mjs';

const NODE1 = 'ws://127.0.0.1:8088';
const NODE2 = 'ws://127.0.0.2:8088';
const CLUSTER = { PBX_CLUSTER: '1' };
const N2 = { PBX_NODE: '2' };
const FAILOVER_MS = 20000; // node 1 killed -> A registered on node 2
const REFRESH_MS = 20000; // node 1 killed -> B got A's re-INVITE
const DMQ_MS = 15000; // the nodes see each other / a contact is replicated
// Chromium's fake microphone beeps: mean power well above codec noise
const SOUND = 1e-4;

const rpcOn = (env, ...args) => pbx(['rpc', ...args], 10000, env);

/** The usrloc record of `aor` on a node ('' when none). */
const lookup = (env, aor) => rpcOn(env, 'ul.lookup', 'location', aor).catch(() => '');

/** Poll `fn` until it returns something truthy, at most `ms`; returns it. */
async function until(what, ms, fn) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(200);
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

/** Each page hears the other: bytes arrive and their power is a sound, not silence. */
async function soundBothWays(pages) {
  await audioBothWays(pages);
  const heard = await Promise.all(pages.map((p) => energyOver(p.page, 1500)));
  const out = Object.fromEntries(pages.map((p, i) => [p.name, { ...heard[i], power: Number(heard[i].power.toExponential(2)) }]));
  const deaf = pages.filter((p, i) => !(heard[i].bytes > 0 && heard[i].power > SOUND)).map((p) => p.name);
  if (deaf.length) throw new Error(`no sound reaches ${deaf.join(', ')}: ${JSON.stringify(out)}`);
  return out;
}

/** SIP messages a page received since `t` (Date.now()) whose first line matches `re`. */
const received = (P, t, re) => P.frames.filter((f) => f.dir === '<<' && f.at >= t && re.test(f.text.split('\r\n', 1)[0]));
const callIdOf = (text) => (/^(?:Call-ID|i):\s*(.+)$/im.exec(text) || [])[1]?.trim();

async function startCluster() {
  await pbx(['stop'], 20000);
  await pbx(['start'], 30000, CLUSTER);
  await pbx(['start'], 30000, N2);
}

async function restoreSinglePbx(r) {
  for (const [args, env] of [[['stop'], N2], [['stop'], CLUSTER], [['start'], {}]]) {
    await pbx(args, 30000, env).catch((e) => {
      r.restore_errors = [...(r.restore_errors || []), e.message];
    });
  }
}

export async function scenarioClusterFailover(browser, base, r) {
  try {
    await clusterFailover(browser, base, r);
  } finally {
    await restoreSinglePbx(r);
  }
}

async function clusterFailover(browser, base, r) {
  const SC = 'cluster-failover';
  await step('start the two-node cluster', 60000, startCluster);
  r.dmq_nodes_ms = await step('the nodes see each other', DMQ_MS, async () => {
    const t0 = Date.now();
    await until('node 1 lists node 2 as active', DMQ_MS, async () => /127\.0\.0\.2[\s\S]*?status: active/.test(await rpcOn(CLUSTER, 'dmq.list_nodes')));
    return Date.now() - t0;
  });

  const A = await openPage(browser, base, SC, 'A');
  const B = await openPage(browser, base, SC, 'B');
  r.pages = [A, B];
  r.register_ms = await registerAll([A, B], [
    { ...user(1005, 'Ann'), ws: `${NODE1} ${NODE2}` },
    { ...user(1006, 'Ben'), ws: `${NODE2} ${NODE1}` },
  ]);
  // each registration is on both nodes; its Path names the node that holds
  // the WebSocket
  r.replicated = await step('registrations on both nodes', DMQ_MS, () =>
    until('1005 and 1006 on both nodes', DMQ_MS, async () => {
      const seen = {};
      for (const [node, env] of [['node1', CLUSTER], ['node2', N2]]) {
        for (const aor of ['1005@127.0.0.1', '1006@127.0.0.1']) {
          const rec = await lookup(env, aor);
          const p = /Path: (\S+)/.exec(rec);
          if (!p) return null;
          seen[`${node} ${aor}`] = p[1];
        }
      }
      return seen;
    }),
  );
  for (const [k, v] of Object.entries(r.replicated)) {
    const want = k.includes('1005') ? '127.0.0.1:5070' : '127.0.0.2:5070';
    if (!v.includes(want)) throw new Error(`${k}: Path ${v}, want the node of its WebSocket (${want})`);
  }

  // ----- A (node 1) calls B (node 2) -----
  await callAndAnswer(A, B, '1006');
  r.sound_before = await step('sound both ways (node 1 -> node 2)', T.media + 5000, () => soundBothWays([A, B]));
  const invite = B.frames.find((f) => f.dir === '<<' && f.text.startsWith('INVITE '));
  const callId = invite && callIdOf(invite.text);
  r.record_route = invite && (/^Record-Route:.*$/gim.exec(invite.text) || [])[0];

  // ----- node 1 dies -----
  const tA = await A.page.evaluate(() => performance.now());
  const killAt = Date.now();
  await step('kill node 1', 10000, () => pbx(['kill'], 10000, CLUSTER));
  await step('A registered on node 2', FAILOVER_MS, async () => {
    await until('A connected to node 2', FAILOVER_MS, async () => A.wsUrls.some((u) => u.startsWith(NODE2)));
    await waitReg(A.page, 'registered', FAILOVER_MS);
  });
  r.ws_urls_A = A.wsUrls;
  // what A showed meanwhile (page clock from just before the kill):
  // reconnecting, with the call kept; the failover time is from the kill to
  // "registered" on node 2
  const states = await A.page.evaluate((t) => window.__probe.states.filter((s) => s.t >= t), tA);
  r.states_A = states.map((s) => `${Math.round(s.t - tA)} ${s.reg}/${s.phone}`);
  r.failover_ms = Math.round(states.find((s) => s.reg === 'registered').t - tA);
  if (!r.states_A.some((s) => s.includes('reconnecting/active'))) throw new Error(`A never showed "reconnecting" with the call kept: ${r.states_A.join(', ')}`);
  if (r.states_A.some((s) => !s.endsWith('/active'))) throw new Error(`A left the call during the failover: ${r.states_A.join(', ')}`);
  const reInvite = await step("A's re-INVITE reaches B through node 2", REFRESH_MS, () =>
    until('re-INVITE at B', REFRESH_MS, async () => received(B, killAt, /^INVITE /).find((f) => callIdOf(f.text) === callId)),
  );
  r.refresh_at_B_ms = reInvite.at - killAt;
  const ok200 = await step('A gets 200 to its re-INVITE', 10000, () =>
    until('200 at A', 10000, async () =>
      received(A, killAt, /^SIP\/2\.0 200 /).find((f) => callIdOf(f.text) === callId && /^CSeq:\s*\d+ INVITE/im.test(f.text)),
    ),
  );
  r.refresh_answered_ms = ok200.at - killAt;
  r.node2_log = (await pbx(['log', '400'], 10000, N2)).split('\n').filter((l) => l.includes('in-dialog INVITE') && l.includes(callId)).slice(-2);
  if (!r.node2_log.length) throw new Error('node 2 did not log the re-INVITE of the call');
  for (const p of [A, B]) {
    const s = await p.page.getAttribute('#phone', 'data-phone');
    if (s !== 'active') throw new Error(`${p.name}: phone is "${s}" after the failover, want active (${await errorText(p.page)})`);
  }
  r.sound_after = await step('sound both ways after the failover', T.media + 5000, () => soundBothWays([A, B]));
  r.screenshots.push(await shot(A.page, SC, 'after-failover-A'));
  await hangUp(A, B);

  // ----- a new call to A through node 2 -----
  await callAndAnswer(B, A, '1005');
  r.sound_node2_call = await step('sound both ways (B -> A on node 2)', T.media + 5000, () => soundBothWays([A, B]));
  await hangUp(B, A);

  // ----- node 1 back: it routes a new call to A (WebSocket on node 2) -----
  const backAt = Date.now();
  await step('start node 1 again', 30000, () => pbx(['start'], 30000, CLUSTER));
  await step('node 1 has A from node 2 (DMQ sync)', DMQ_MS, () =>
    until('1005 on node 1', DMQ_MS, async () => /Path: \S*127\.0\.0\.2:5070/.test(await lookup(CLUSTER, '1005@127.0.0.1'))),
  );
  r.node1_synced_ms = Date.now() - backAt;
  const C = await openPage(browser, base, SC, 'C');
  r.pages = [A, B, C];
  r.register_ms_C = await registerAll([C], [{ ...user(1007, 'Cem'), ws: NODE1 }]);
  await callAndAnswer(C, A, '1005');
  r.sound_node1_call = await step('sound both ways (C on node 1 -> A on node 2)', T.media + 5000, () => soundBothWays([A, C]));
  await hangUp(C, A);
  await waitPhone(B.page, 'idle', T.ui);
}

export const CLUSTER_SCENARIOS = { 'cluster-failover': scenarioClusterFailover };
