//! The Leptos UI. Components render [`state::PhoneState`] (the phone's view
//! as signals) and send [`Action`]s through [`crate::web::driver::dispatch`];
//! they hold no phone logic.
//!
//! DOM contract (used by the end-to-end tests): `#phone[data-phone]` (a
//! `div`, with the class `wide` in the wide layout; on the page it is in
//! the one `<main>`, embedded it has no landmark of its own), `#announce`
//! (the assertive live region: a call ringing),
//! `#reg-status[data-state]`, `#error`, `#notice`, `#settings-form` and its
//! inputs, `#open-settings`, `#dial-input`, `#call-button`, `#incoming`,
//! `#incoming-from`, `#answer-button`, `#decline-button`, `#in-call`,
//! `#call-peer`, `#call-timer`, `#call-remote-hold`, `#call-link`,
//! `#hangup-button`; the settings form's `#allow-insecure`, `#advanced`,
//! `#ice-servers`, `#ice-timeout`; `#fatal` (the panic banner, outside
//! `#phone`). `#dialpad`, `#incoming` and `#in-call` stay in the page and
//! are hidden (their `hidden` attribute) when not in use.

pub mod call;
pub mod contacts;
pub mod dialpad;
pub mod history;
pub mod lines;
pub mod messages;
pub mod settings;
pub mod state;
pub mod status;
pub mod views;

use crate::app::lists::Lists;
use crate::app::lists::Tab;
use crate::app::phone::Action;
use crate::app::phone::TabAction;
use crate::app::view::PhoneView;
use crate::web::{driver, embed, layout, storage, transport};
use gloo_timers::callback::Timeout;
use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;
use state::{PhoneState, RegView};
use std::cell::Cell;
use views::Views;

pub use crate::web::init_runtime;

/// Entry point of the app (called by `main`): driver and UI on the whole
/// page; in an iframe opened with `?embed=frame&parent=<origin>`, the
/// postMessage bridge too; `?call=<link>` calls once signed in.
///
/// A tab that had signed in signs in again before anything is drawn (issue
/// 15): the REGISTER leaves first (on the WebSocket `early-socket.js`
/// opened while the wasm loaded), and the view is mounted once the server
/// has answered (signed in, or refused), or after [`FIRST_VIEW_WAIT_MS`]
/// when the answer takes longer. Drawing the whole phone (and the page's
/// first layout) takes the page for tens of milliseconds: drawn right
/// after the REGISTER, it held up the server's challenge when the answer
/// comes quickly. Until then the page shows its `#boot` line.
pub fn start() {
    init_runtime();
    let query = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    embed::start_frame_bridge(&query);
    let settings = storage::load();
    // a reload of a tab that had signed in signs in again
    let resume = storage::has_session_settings() && !settings.sip_uri.is_empty();
    let state = PhoneState::new(!resume);
    let views = Views::new();
    driver::init(driver::Keys::Page, !resume, move |v, l| {
        show(state, views, v, l);
        // signed in (or it came to something else)
        let signing_in = matches!(
            v.reg,
            RegView::Unregistered | RegView::Connecting | RegView::Registering
        );
        if !resume || !signing_in {
            mount_soon(state, views);
        }
    });
    if resume {
        driver::dispatch(Action::SignIn(Box::new(settings)));
    }
    transport::release_early();
    embed::call_on_start(&query);
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        layout::watch(&body);
    }
    if resume {
        let wait = Timeout::new(FIRST_VIEW_WAIT_MS, move || mount_soon(state, views));
        wait.forget(); // (mounting twice is prevented by MOUNTED)
    } else {
        mount_soon(state, views);
    }
}

/// How long a tab signing in again waits at most before it draws the phone.
const FIRST_VIEW_WAIT_MS: u32 = 100;

thread_local! {
    static MOUNTED: Cell<bool> = const { Cell::new(false) };
}

/// Mount the page's view once, in a task of its own (not inside the
/// driver's pump that asked for it).
fn mount_soon(state: PhoneState, views: Views) {
    if MOUNTED.with(|m| m.replace(true)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(boot) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("boot"))
        {
            boot.remove();
        }
        // the page's one main landmark (the embedded phone has none: it is
        // a part of its host page)
        leptos::mount::mount_to_body(move || {
            view! {
                <main>
                    <App state=state views=views />
                </main>
            }
        });
        crate::web::mark("softphone:mounted");
    });
}

/// The phone's view (and the tabs' lists when they changed) to the signals.
fn show(state: PhoneState, views: Views, v: &PhoneView, lists: Option<&Lists>) {
    state.apply(v);
    if let Some(l) = lists {
        views.apply(l);
    }
}

/// The embedded phone (docs/embedding.md): the same app in `container`
/// (inside the host element's shadow root), keys only inside it; signs in
/// at once with `sign_in`, else shows the settings form. Returns Leptos'
/// unmount handle: dropping it removes the view and its owner.
pub fn mount_embedded(
    container: web_sys::HtmlElement,
    sign_in: Option<storage::Settings>,
) -> Box<dyn std::any::Any> {
    let keys: web_sys::EventTarget = container.clone().into();
    layout::watch(&container);
    let handle = leptos::mount::mount_to(container, move || {
        let state = PhoneState::new(sign_in.is_none());
        let views = Views::new();
        driver::init(
            driver::Keys::Within(keys),
            sign_in.is_none(),
            move |v, l| show(state, views, v, l),
        );
        if let Some(s) = sign_in {
            driver::dispatch(Action::SignIn(Box::new(s)));
        }
        view! { <App state=state views=views /> }
    });
    Box::new(handle)
}

#[component]
fn App(state: PhoneState, views: Views) -> impl IntoView {
    let in_call = move || state.call.with(|c| c.is_some());
    // the dialpad once signed in (and while the connection comes back)
    let can_dial = move || {
        state.reg.with(|r| {
            matches!(
                r,
                RegView::Registered { .. }
                    | RegView::Registering
                    | RegView::Reconnecting { .. }
                    | RegView::Offline
            )
        })
    };
    let wide = move || views.layout.with(|l| l.wide);
    let shown = move |tab: Tab| move || !views.layout.with(|l| l.in_view(tab));
    let list_panel = move |tab: Tab, body: AnyView| {
        view! {
            <section
                id=tab.panel_id()
                class="view"
                role="tabpanel"
                aria-labelledby=tab.tab_id()
                hidden=shown(tab)
            >
                {body}
            </section>
        }
    };
    // the lists and the two call panels are drawn in the next task, after
    // the phone: at load the user waits for the phone's state (signed in or
    // not), and drawing the lists took as long again; the panels stay in the
    // page (hidden) once drawn, so a call finds them there
    let rest_drawn = RwSignal::new(false);
    set_timeout(move || rest_drawn.set(true), std::time::Duration::ZERO);
    view! {
        <div
            id="phone"
            class=move || if wide() { "phone wide" } else { "phone" }
            data-phone=move || state.data_phone()
        >
            <status::Header state=state />
            // the phone's side: the alerts, the settings and the phone; on a
            // narrow screen the tab bar too (in the wide layout it heads the
            // lists beside the phone)
            <div class="pane pane-phone">
                <status::RegStatus state=state />
                <Voicemail views=views />
                <status::Messages state=state />
                <Show when=move || state.settings_open.get()>
                    // the settings as last saved, each time the form opens
                    <settings::SettingsForm state=state initial=storage::load() />
                </Show>
                <Show when=move || !wide()>
                    <Tabs views=views />
                </Show>
                <section
                    id=Tab::Phone.panel_id()
                    class="view"
                    role=move || if wide() { "region" } else { "tabpanel" }
                    aria-labelledby=move || (!wide()).then_some(Tab::Phone.tab_id())
                    aria-label=move || wide().then_some(Tab::Phone.title())
                    hidden=shown(Tab::Phone)
                >
                    <lines::Lines state=state />
                    <Show when=move || rest_drawn.get()>
                        <call::IncomingPanel state=state />
                        <call::InCallPanel state=state />
                    </Show>
                    // one dialpad, kept in the page: hidden during a call
                    // unless "Add call" opened it (ringing then only hides it)
                    <Show when=can_dial>
                        <dialpad::Dialpad hidden=Signal::derive(move || {
                            in_call() && !state.adding.get()
                        }) />
                    </Show>
                    <Show when=move || !in_call() && !can_dial()>
                        <p id="dial-hint" class="card hint">
                            "Sign in to make calls: fill in your account and press \"Save and sign in\"."
                        </p>
                    </Show>
                </section>
            </div>
            <div class="pane pane-lists">
                <Show when=move || rest_drawn.get()>
                    <Show when=wide>
                        <Tabs views=views />
                    </Show>
                    {list_panel(Tab::History, view! { <history::HistoryView views=views /> }.into_any())}
                    {list_panel(Tab::Contacts, view! { <contacts::ContactsView views=views /> }.into_any())}
                    {list_panel(Tab::Messages, view! { <messages::MessagesView views=views /> }.into_any())}
                </Show>
            </div>
            <footer class="foot">"SIP over WebSocket · audio and video by WebRTC"</footer>
        </div>
    }
}

/// The tab bar: one button per view; the arrow keys, Home and End move
/// between them (the selected tab is the one in the Tab order).
#[component]
fn Tabs(views: Views) -> impl IntoView {
    let refs: [NodeRef<html::Button>; 4] = std::array::from_fn(|_| NodeRef::new());
    // the tabs in the bar: in the wide layout the phone is always shown
    let in_bar = move || -> &'static [Tab] {
        if views.layout.with_untracked(|l| l.wide) {
            &Tab::LISTS
        } else {
            &Tab::ALL
        }
    };
    let go = move |tab: Tab| {
        views::act(TabAction::Show(tab));
        if let Some(i) = Tab::ALL.iter().position(|t| *t == tab) {
            if let Some(button) = refs[i].get() {
                let _ = button.focus();
            }
        }
    };
    let on_keydown = move |ev: KeyboardEvent| {
        let tabs = in_bar();
        let n = tabs.len();
        let selected = views.layout.with_untracked(|l| l.selected());
        let current = tabs.iter().position(|t| *t == selected).unwrap_or(0);
        let next = match ev.key().as_str() {
            "ArrowRight" => (current + 1) % n,
            "ArrowLeft" => (current + n - 1) % n,
            "Home" => 0,
            "End" => n - 1,
            _ => return,
        };
        ev.prevent_default();
        go(tabs[next]);
    };
    let buttons = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, &tab)| {
            let selected = move || views.layout.with(|l| l.selected()) == tab;
            // the phone's tab is not in the bar of the wide layout
            let off_bar = move || tab == Tab::Phone && views.layout.with(|l| l.wide);
            let badge = move || {
                let n = views.unread.get();
                (tab == Tab::Messages && n > 0).then(|| {
                    view! {
                        <span class="badge" aria-label=format!("{n} unread")>{n.to_string()}</span>
                    }
                })
            };
            view! {
                <button
                    type="button"
                    role="tab"
                    class="tab"
                    id=tab.tab_id()
                    node_ref=refs[i]
                    aria-controls=tab.panel_id()
                    aria-selected=move || selected().to_string()
                    hidden=off_bar
                    tabindex=move || if selected() { "0" } else { "-1" }
                    on:click=move |_| views::act(TabAction::Show(tab))
                >
                    {tab.title()}
                    {badge}
                </button>
            }
        })
        .collect_view();
    view! {
        <nav class="tabs" role="tablist" aria-label="Views" on:keydown=on_keydown>
            {buttons}
        </nav>
    }
}

/// Message waiting indication, once the server has told us.
#[component]
fn Voicemail(views: Views) -> impl IntoView {
    move || {
        views.voicemail.get().map(|vm| {
            let label = format!("Voicemail: {} new, {} old", vm.new, vm.old);
            view! {
                <p
                    id="voicemail"
                    class="voicemail"
                    data-waiting=vm.waiting.to_string()
                    aria-label=label.clone()
                    title=label
                >
                    <span aria-hidden="true">"✉ "</span>
                    <span class="voicemail-count">{vm.new.to_string()}</span>
                    <span class="sr-only">" new voicemail"</span>
                </p>
            }
        })
    }
}
