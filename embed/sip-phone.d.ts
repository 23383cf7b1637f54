// TypeScript declarations of sip-phone.js, the embeddable softphone
// (README "Embed it"). Served next to it as /sip-phone.d.ts.

export type RegistrationState =
  | 'unregistered' | 'connecting' | 'registering' | 'registered'
  | 'failed' | 'reconnecting' | 'offline';

export type CallStateName = 'calling' | 'ringing' | 'answering' | 'active' | 'ended';

export type EndReason =
  | 'local-hangup' | 'remote-hangup' | 'caller-cancelled' | 'busy' | 'declined' | 'not-acceptable'
  | 'not-found' | 'unavailable' | 'cancelled' | 'session-expired' | 'no-answer'
  | 'auth-failed' | 'failed' | 'media' | 'network' | 'transferred';

export interface PartyInfo {
  /** The SIP URI, e.g. "sip:1001@example.com". */
  uri: string;
  displayName: string | null;
}

export interface RegistrationDetail {
  state: RegistrationState;
  /** The account's address, once registered. */
  aor: string | null;
  /** Why it failed (state "failed"). */
  reason: string | null;
}

export interface IncomingCallDetail {
  call: string;
  from: PartyInfo;
}

export interface CallStateDetail {
  call: string;
  state: CallStateName;
  /** calling and active */
  peer?: PartyInfo;
  /** ended */
  reason?: EndReason;
  /** ended: a sentence for the user */
  message?: string;
}

export interface HoldDetail {
  call: string;
  onHold: boolean;
  /** "local": we held the call; "remote": the other party did. */
  by: 'local' | 'remote';
}

export interface VideoDetail {
  call: string;
  /** Our camera is on in this call. */
  camera: boolean;
  /** We share a screen, window or tab in this call. */
  sharing: boolean;
}

export interface RecordingDetail {
  call: string;
  /** Recording started (true) or stopped (false). */
  recording: boolean;
  /** The recording's key; it is listed in the phone's History, kept in
   * this browser only (IndexedDB "softphone-recordings"). */
  id: string;
}

export interface ErrorDetail {
  message: string;
  /** The phone stopped working (a bug): unmount and mount it again. */
  fatal: boolean;
}

export interface MessageDetail {
  from: PartyInfo;
  text: string;
}

export interface MessageStatusDetail {
  /** The other side (or the PBX) took the message. */
  delivered: boolean;
  /** Why not, e.g. "404 Not Found"; null when delivered. */
  reason: string | null;
}

export interface SipPhoneEventMap {
  registration: CustomEvent<RegistrationDetail>;
  /** An instant message arrived. */
  message: CustomEvent<MessageDetail>;
  /** The outcome of message(), in the order they were sent. */
  messagestatus: CustomEvent<MessageStatusDetail>;
  incomingcall: CustomEvent<IncomingCallDetail>;
  callstate: CustomEvent<CallStateDetail>;
  hold: CustomEvent<HoldDetail>;
  /** Our camera or screen sharing changed (a command, a button, the
   * browser's own "stop sharing", a refused camera). */
  video: CustomEvent<VideoDetail>;
  /** A call's recording started or stopped. */
  recording: CustomEvent<RecordingDetail>;
  error: CustomEvent<ErrorDetail>;
  /** <sip-phone> only: mounted. */
  ready: CustomEvent<undefined>;
}

export interface CallInfo {
  call: string;
  state: 'calling' | 'ringing' | 'incoming' | 'answering' | 'active';
  peer: string;
  number: string;
  held: boolean;
  remoteHeld: boolean;
  muted: boolean;
  /** Our camera is on. */
  camera: boolean;
  /** We share a screen. */
  sharing: boolean;
  /** The call is being recorded. */
  recording: boolean;
  focused: boolean;
}

export interface PhoneState {
  registration: RegistrationState | 'unmounted';
  calls: CallInfo[];
}

export interface Credentials {
  /** A password, or a token your backend made for this user. */
  password?: string;
  /** The digest user name (default: the user part of the URI). */
  user?: string;
  /** The account, when not configured at mount (the iframe bridge). */
  uri?: string;
  ws?: string;
  displayName?: string;
}

export interface IceServerConfig {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface SipPhoneConfig {
  /** WebSocket server(s), e.g. "wss://pbx.example:8089"; several separated
   * by spaces are tried in order. Default: port 8088 (ws) / 8089 (wss) of
   * the host that served sip-phone.js's page. */
  ws?: string;
  /** The account, e.g. "sip:1000@example.com". */
  uri?: string;
  user?: string;
  displayName?: string;
  /** Kept in memory only. Prefer `credentials` or `register()`. */
  password?: string;
  /** Called at mount to get the password or token at run time. */
  credentials?: () => Credentials | Promise<Credentials>;
  /** Sign in at mount (default true, when a password or credentials are given). */
  register?: boolean;
  theme?: 'auto' | 'light' | 'dark';
  /** "inline" (default): fills the element; "floating": a launcher button
   * in the bottom-right corner that opens the phone. */
  layout?: 'inline' | 'floating';
  /** Floating layout: open at start (default true). */
  open?: boolean;
  /** Hand tel:, sip: and sips: links of the page to the phone. */
  clickToCall?: boolean;
  iceServers?: IceServerConfig[] | string;
  /** Media only through a TURN relay of `iceServers` (iceTransportPolicy "relay"). */
  relayOnly?: boolean;
  autoAnswer?: boolean;
  dtmf?: 'rfc4733' | 'info';
  /** The audio codecs calls may use, most wanted first: names from "opus",
   * "G722", "PCMU", "PCMA" (also "ulaw", "alaw"), as an array or a string
   * separated by spaces or commas. Offers and answers list only these
   * (DTMF's telephone-event is always kept); an incoming call that offers
   * none of them is refused with 488 without ringing. Default: the
   * browser's own list (opus first). */
  audioCodecs?: string[] | string;
  /** The video codecs video calls may use, most wanted first: names from
   * "VP8", "VP9", "H264" (also "h.264", "avc"), "AV1", as an array or a
   * string. Offers and answers list only these (with their retransmission
   * and error correction). Default: the browser's own list (VP8 first). */
  videoCodecs?: string[] | string;
  /** Recording: "never" (no Record button), "ask" (the default: a Record
   * button in each call), "always" (every call, from the answer). */
  recordCalls?: 'never' | 'ask' | 'always';
  /** ws:// to a host that is not this computer (unencrypted). */
  allowInsecureWs?: boolean;
}

/** Options of call() and answer(). */
export interface CallOptions {
  /** With the camera: a video call, or a video call answered with video. */
  video?: boolean;
}

export interface PhoneCommands {
  register(credentials?: Credentials | string): void;
  unregister(): void;
  /** A number, a sip: URI, or a tel: link; `video`: a video call (with
   * the camera). */
  call(target: string, options?: CallOptions): void;
  /** Answer the ringing call; `video`: with the camera (the call panel
   * shows the pictures; an embedded widget has the same video area). */
  answer(options?: CallOptions): void;
  /** Hang up, cancel or decline the call on screen. */
  hangup(): void;
  hold(): void;
  resume(): void;
  mute(): void;
  unmute(): void;
  /** 0-9 * # A-D */
  sendDtmf(digits: string): void;
  /** Blind transfer of the call on screen. */
  transfer(target: string): void;
  /** An instant message (SIP MESSAGE); the outcome comes as `messagestatus`. */
  message(to: string, text: string): void;
  /** The user has started entering a number: the microphone and the next
   * call's offer are made ready now (released after 15 s without a call),
   * so the call starts sooner. Nothing happens when not signed in. */
  prepare(): void;
  /** The camera on or off in the established call on screen (a re-INVITE;
   * the other side's picture follows). */
  videoOn(): void;
  videoOff(): void;
  /** Share a screen, window or tab in place of the camera (the browser
   * asks which), or stop: the camera comes back if it was on. */
  shareScreen(): void;
  stopSharing(): void;
  /** Record the established call on screen (both sides mixed, and the
   * picture of a video call), or stop; unless the settings say never.
   * The recording is kept in this browser and listed in History. */
  record(): void;
  stopRecording(): void;
}

export interface Phone extends PhoneCommands {
  readonly state: PhoneState;
  /** The element the events are dispatched on. */
  readonly element: HTMLElement;
  on<K extends keyof SipPhoneEventMap>(type: K, listener: (ev: SipPhoneEventMap[K]) => void): () => void;
  /** Hand tel:/sip: links under root (default: the document) to the phone. */
  handleLinks(root?: Document | Element): () => void;
  expand(): void;
  collapse(): void;
  /** Hang up, sign out, close the WebSocket, stop timers and media tracks,
   * remove the phone from its element. */
  unmount(): Promise<void>;
}

/** The phone running in an iframe, over postMessage (commands resolve when
 * the frame has run them, or reject with its reason). */
export interface FramePhone {
  readonly ready: Promise<void>;
  register(credentials?: Credentials | string): Promise<void>;
  unregister(): Promise<void>;
  call(target: string, options?: CallOptions): Promise<void>;
  answer(options?: CallOptions): Promise<void>;
  hangup(): Promise<void>;
  hold(): Promise<void>;
  resume(): Promise<void>;
  mute(): Promise<void>;
  unmute(): Promise<void>;
  sendDtmf(digits: string): Promise<void>;
  transfer(target: string): Promise<void>;
  message(to: string, text: string): Promise<void>;
  prepare(): Promise<void>;
  videoOn(): Promise<void>;
  videoOff(): Promise<void>;
  shareScreen(): Promise<void>;
  stopSharing(): Promise<void>;
  record(): Promise<void>;
  stopRecording(): Promise<void>;
  state(): Promise<PhoneState>;
  addEventListener<K extends keyof SipPhoneEventMap>(type: K, listener: (ev: SipPhoneEventMap[K]) => void): void;
  removeEventListener<K extends keyof SipPhoneEventMap>(type: K, listener: (ev: SipPhoneEventMap[K]) => void): void;
  close(): void;
}

/** The phone without a view (sip-agent.js, the library build): your page
 * draws its own controls. The events are dispatched on the agent itself. */
export interface Agent extends PhoneCommands, EventTarget {
  readonly state: PhoneState;
  /** The pictures of a call (`call` from the events or `state`): a
   * `div.video-box` that holds, from the call's first picture on (sent or
   * received), the other side's `video.remote-video` and our
   * `video.local-video` preview, to put anywhere in your page; null when
   * there is no such call. */
  videoBox(call: string): HTMLElement | null;
  on<K extends keyof SipPhoneEventMap>(type: K, listener: (ev: SipPhoneEventMap[K]) => void): () => void;
  /** Hang up, sign out, close the WebSocket, stop timers and media tracks. */
  close(): Promise<void>;
}

/** The configuration of an agent: theme, layout, open and clickToCall do not apply. */
export type AgentConfig = Omit<SipPhoneConfig, 'theme' | 'layout' | 'open' | 'clickToCall'>;

export declare function mount(element: HTMLElement, config?: SipPhoneConfig): Promise<Phone>;
/** Start a phone without a view (one per page; it loads the library build's wasm). */
export declare function createAgent(config?: AgentConfig): Promise<Agent>;
export declare function connectFrame(iframe: HTMLIFrameElement, options: { origin: string }): FramePhone;

export declare const SipPhone: {
  mount: typeof mount;
  createAgent: typeof createAgent;
  connectFrame: typeof connectFrame;
  version: string;
};
export default SipPhone;

/** <sip-phone ws=… uri=… user=… theme=… layout=… click-to-call>; the
 * attributes are read at mount, except `theme`, which also switches a
 * mounted phone. */
export interface SipPhoneElement extends HTMLElement, PhoneCommands {
  readonly ready: Promise<Phone>;
  readonly phone: Phone | null;
  readonly state: PhoneState;
  on<K extends keyof SipPhoneEventMap>(type: K, listener: (ev: SipPhoneEventMap[K]) => void): () => void;
  handleLinks(root?: Document | Element): () => void;
  expand(): void;
  collapse(): void;
  unmount(): Promise<void>;
  addEventListener<K extends keyof SipPhoneEventMap>(type: K, listener: (this: SipPhoneElement, ev: SipPhoneEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'sip-phone': SipPhoneElement;
  }
  // eslint-disable-next-line no-var
  var SipPhone: typeof import('./sip-phone').SipPhone;
}
