// Debian's Firefox ESR as the tests launch it, driven through WebDriver BiDi
// (playwright-core's "moz-firefox" channel, which speaks BiDi to a stock
// Firefox: Playwright's own patched Firefox cannot be downloaded here).
//
// The BiDi mode is pinned to playwright-core 1.62 (package alias
// "playwright-core-bidi"): 1.65 sends emulation commands that Firefox ESR
// 153 does not know (emulation.setMediaFeaturesOverride: "unknown command").
// Chromium keeps the newer playwright-core (chromium.mjs).
//
// Differences from Chromium that the tests account for (lib.mjs):
//   - no WebSocket frame events over BiDi: the page probe records SIP frames
//     inside the page and hands them to the test through a binding;
//   - no CDP: memory figures (load-100, the benchmark) are Chromium only;
//   - a headless Firefox here has no audio output, so an AudioContext never
//     starts (resume() does not settle): tests that analyse sound use
//     MediaRecorder and OfflineAudioContext there (baresip.mjs), and the fake
//     microphone's own sine (1100 Hz, pref below) as the page's tone; the
//     recording test, which needs Web Audio, runs under scripts/pulse.sh (a
//     sound server with a null output).
import bidi from 'playwright-core-bidi';

export const FIREFOX_PATH = '/usr/bin/firefox-esr';

/**
 * Fake media and WebRTC on loopback. Without permissions.default.microphone
 * Firefox gathers no ICE candidate in a namespace that has only "lo"; without
 * ice.loopback it never offers 127.0.0.1; host candidates as plain IPs (no
 * mDNS names), as in Chromium.
 */
export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  // the fake microphone is a sine of this frequency (baresip.mjs listens for it)
  'media.navigator.audio.fake_frequency': 1100,
  'permissions.default.microphone': 1,
  'permissions.default.camera': 1,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  // autoplay of the call audio without a gesture (Chromium: fake UI flag)
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // a page in the background keeps its timers (one window per page anyway)
  'dom.min_background_timeout_value': 4,
  'dom.timeout.enable_budget_timer_throttling': false,
  // nothing outside: no updates, telemetry, captive portal or DNS prefetch
  'app.update.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'toolkit.telemetry.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
};

/** Launch it (headless unless `headed`); `prefs` are added to FIREFOX_PREFS. */
export function launchFirefox({ executablePath = FIREFOX_PATH, headed = false, prefs = {} } = {}) {
  return bidi.firefox.launch({
    executablePath,
    channel: 'moz-firefox',
    headless: !headed,
    firefoxUserPrefs: { ...FIREFOX_PREFS, ...prefs },
  });
}

/**
 * Firefox with its own profile folder `profile` (one browser context: every
 * page shares its storage). The wss:// test uses it: the profile's
 * certificate store (cert9.db) trusts the test CA.
 */
export function launchFirefoxProfile(profile, { executablePath = FIREFOX_PATH, headed = false, prefs = {} } = {}) {
  return bidi.firefox.launchPersistentContext(profile, {
    executablePath,
    channel: 'moz-firefox',
    headless: !headed,
    viewport: { width: 900, height: 900 },
    firefoxUserPrefs: { ...FIREFOX_PREFS, ...prefs },
  });
}
