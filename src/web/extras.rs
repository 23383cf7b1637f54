//! Driver wiring for history, contacts/presence, voicemail and messages
//! (issue 5). The driver shows every event from the core to [`on_event`]
//! first; these views keep their own state. Commands go back through
//! [`crate::web::driver::command`].

use crate::sip::Event;

/// Observe an event from the core (the driver handles it afterwards).
pub fn on_event(event: &Event) {
    let _ = event;
}
