//! The recordings kept in the browser: IndexedDB database
//! `softphone-recordings`, object store `recordings`, one `Blob` per key
//! (the key is the phone's: `app::phone`'s recording id). Nothing leaves
//! the browser. Each operation opens the database, does its one
//! transaction and closes it again, so no connection stays open.
//!
//! Errors come back typed ([`RecordError`]): a full quota
//! (`QuotaExceededError`) apart from the rest, said in words by the app.

use crate::app::phone::AppInput;
use crate::app::view::RecordError;
use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{Blob, DomException, IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

const DB: &str = "softphone-recordings";
const STORE: &str = "recordings";

/// Where results go (the driver's input).
pub type Done = std::rc::Rc<dyn Fn(AppInput)>;

/// Open recording `id` for playing: an address for a `<audio>`/`<video>`
/// ([`AppInput::RecordingOpened`], or why not).
pub fn play(id: String, done: Done) {
    spawn_local(async move {
        done(match get(&id).await.and_then(|b| Ok((url_of(&b)?, b))) {
            Ok((url, blob)) => AppInput::RecordingOpened {
                id,
                url,
                video: blob.type_().starts_with("video"),
            },
            Err(error) => AppInput::RecordingFailed { id, error },
        })
    });
}

/// Save recording `id` as a file: `name` with the extension of its format.
pub fn download(id: String, name: String, done: Done) {
    spawn_local(async move {
        let saved = async {
            let blob = get(&id).await?;
            let url = url_of(&blob)?;
            let file = format!("{name}.{}", extension(&blob.type_()));
            let clicked = save_as(&url, &file);
            // the browser has taken the file once the click is handled
            gloo_timers::callback::Timeout::new(60_000, move || release(&url)).forget();
            clicked.map_err(|e| RecordError::Storage(super::media::js_text(&e)))
        }
        .await;
        if let Err(error) = saved {
            done(AppInput::RecordingFailed { id, error });
        }
    });
}

/// Delete these recordings (a failure is said, with the first key).
pub fn remove(ids: Vec<String>, done: Done) {
    spawn_local(async move {
        if let Err(error) = delete(&ids).await {
            let id = ids.first().cloned().unwrap_or_default();
            crate::log::warn!("{} recording(s) not deleted", ids.len());
            done(AppInput::RecordingFailed { id, error });
        }
    });
}

/// An address made for a recording is no longer needed.
pub fn release(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

fn url_of(blob: &Blob) -> Result<String, RecordError> {
    web_sys::Url::create_object_url_with_blob(blob)
        .map_err(|e| RecordError::Storage(super::media::js_text(&e)))
}

/// The file extension of a recording's type (`audio/webm;codecs=opus`).
fn extension(mime: &str) -> &'static str {
    let sub = mime.split(['/', ';']).nth(1).unwrap_or("").trim();
    match sub {
        "ogg" => "ogg",
        "mp4" => "mp4",
        _ => "webm",
    }
}

/// Click a link that saves `url` as `file`.
fn save_as(url: &str, file: &str) -> Result<(), JsValue> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let a = doc
        .create_element("a")?
        .dyn_into::<web_sys::HtmlElement>()?;
    a.set_attribute("href", url)?;
    a.set_attribute("download", file)?;
    a.set_hidden(true);
    let body = doc
        .body()
        .ok_or_else(|| JsValue::from_str("no page body"))?;
    body.append_child(&a)?;
    a.click();
    a.remove();
    Ok(())
}

/// Store `blob` as recording `id`.
pub async fn put(id: &str, blob: &Blob) -> Result<(), RecordError> {
    write(|store| store.put_with_key(blob, &JsValue::from_str(id)).map(drop)).await
}

/// Delete these recordings.
pub async fn delete(ids: &[String]) -> Result<(), RecordError> {
    write(|store| {
        for id in ids {
            store.delete(&JsValue::from_str(id))?;
        }
        Ok(())
    })
    .await
}

/// Recording `id` ([`RecordError::Missing`] when it is not stored).
pub async fn get(id: &str) -> Result<Blob, RecordError> {
    let db = open().await?;
    let got = async {
        let tx = db.transaction_with_str(STORE)?;
        let req = tx.object_store(STORE)?.get(&JsValue::from_str(id))?;
        request(&req).await
    }
    .await;
    db.close();
    got.map_err(error)?
        .dyn_into::<Blob>()
        .map_err(|_| RecordError::Missing)
}

/// One read-write transaction doing `f`, waited for until it is committed
/// (a full quota shows only then).
async fn write(
    f: impl FnOnce(&web_sys::IdbObjectStore) -> Result<(), JsValue>,
) -> Result<(), RecordError> {
    let db = open().await?;
    let done = async {
        let tx = db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)?;
        f(&tx.object_store(STORE)?)?;
        committed(&tx).await
    }
    .await;
    db.close();
    done.map_err(error)
}

/// The database, made (version 1: one store) the first time.
async fn open() -> Result<IdbDatabase, RecordError> {
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or_else(|| RecordError::Storage("this browser keeps no data for the page".into()))?;
    let req = factory.open_with_u32(DB, 1).map_err(error)?;
    let r = req.clone();
    let upgrade = Closure::once(move |_: JsValue| {
        if let Some(db) = r
            .result()
            .ok()
            .and_then(|d| d.dyn_into::<IdbDatabase>().ok())
        {
            if let Err(e) = db.create_object_store(STORE) {
                crate::log::warn!("recordings: no store made: {}", super::media::js_text(&e));
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db = request(&req).await;
    req.set_onupgradeneeded(None);
    drop(upgrade);
    db.map_err(error)?
        .dyn_into::<IdbDatabase>()
        .map_err(|_| RecordError::Storage("the recordings could not be opened".into()))
}

/// A request's result, or its error.
async fn request(req: &IdbRequest) -> Result<JsValue, JsValue> {
    let p = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    let r = JsFuture::from(p).await;
    req.set_onsuccess(None);
    req.set_onerror(None);
    match r {
        Ok(_) => req.result(),
        Err(e) => Err(req.error().ok().flatten().map_or(e, JsValue::from)),
    }
}

/// A transaction committed, or why not.
async fn committed(tx: &IdbTransaction) -> Result<(), JsValue> {
    let p = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    match JsFuture::from(p).await {
        Ok(_) => Ok(()),
        Err(e) => Err(tx.error().map_or(e, JsValue::from)),
    }
}

/// The typed error of a failed operation.
fn error(e: JsValue) -> RecordError {
    let name = e
        .dyn_ref::<DomException>()
        .map(|d| d.name())
        .unwrap_or_default();
    if name == "QuotaExceededError" {
        RecordError::Full
    } else {
        RecordError::Storage(super::media::js_text(&e))
    }
}
