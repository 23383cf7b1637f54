// Debian's Chromium as every test and the benchmark launch it (one place for
// the flags): headless, a fake microphone (a beep) with the permission
// granted, WebRTC on loopback with plain IPs (no mDNS names), and no host
// name resolution at all (everything is an IP literal on this machine).
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // microphone permission granted, a fake audio source (a beep)
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  // WebRTC: also gather 127.0.0.1 host candidates, and plain IPs, not mDNS names
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // never resolve a host name: ws://example.com goes nowhere
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE 127.0.0.2',
];

/**
 * Launch it; `extra` flags are added (e.g. --js-flags=--expose-gc); `home`
 * is the HOME it runs with (its certificate store is HOME/.pki/nssdb: the
 * wss:// tests put the test CA there).
 */
export function launchChromium({ executablePath = CHROMIUM_PATH, headed = false, extra = [], home = null } = {}) {
  return chromium.launch({
    executablePath,
    headless: !headed,
    args: [...(headed ? [] : ['--headless']), ...CHROMIUM_ARGS, ...extra],
    ...(home ? { env: { ...process.env, HOME: home } } : {}),
  });
}
