//! Loading fixtures and comparing an event's JSON form with what a test expects.

use std::path::{Path, PathBuf};

use meta_messaging_core::webhook::{self, Event};
use serde_json::{Value, json};

/// Where the corpus lives; every `*.json` file in it is a whole delivery body.
pub(crate) const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/webhooks");

/// A parsed fixture: the body as it is on disk, its events and their JSON forms (same order).
pub(crate) struct Fixture {
    pub(crate) name: String,
    pub(crate) body: Vec<u8>,
    pub(crate) events: Vec<Event>,
    pub(crate) json: Vec<Value>,
}

/// Loads and parses `tests/fixtures/webhooks/<name>.json`.
///
/// Named tests call this with a literal name: the corpus test checks that every fixture file
/// appears in such a call, so a new fixture cannot go unasserted.
pub(crate) fn load(name: &str) -> Fixture {
    load_path(&Path::new(DIR).join(format!("{name}.json")))
}

pub(crate) fn load_path(path: &Path) -> Fixture {
    let name = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let body = std::fs::read(path)
        .unwrap_or_else(|err| panic!("cannot read fixture {}: {err}", path.display()));
    let events = webhook::parse(&body)
        .unwrap_or_else(|err| panic!("fixture {name} is not a parsable delivery: {err}"));
    let json = events
        .iter()
        .map(|event| serde_json::to_value(event).expect("an event serializes to JSON"))
        .collect();
    Fixture {
        name,
        body,
        events,
        json,
    }
}

/// Every fixture file, sorted by name.
pub(crate) fn all() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(DIR)
        .unwrap_or_else(|err| panic!("cannot list {DIR}: {err}"))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
}

impl Fixture {
    /// The events and their JSON forms, after checking there are exactly `count`.
    pub(crate) fn expect(&self, count: usize) -> Vec<(&Event, &Value)> {
        assert_eq!(
            self.events.len(),
            count,
            "{}: expected {count} events, got {:#?}",
            self.name,
            self.json
        );
        self.events.iter().zip(&self.json).collect()
    }

    /// The one event of a single-event fixture, and its JSON form.
    pub(crate) fn single(&self) -> (&Event, &Value) {
        self.expect(1)[0]
    }
}

/// The JSON Meta sent for this one event (`Event::raw`), as a value.
pub(crate) fn raw(event: &Event) -> Value {
    let raw = event.raw().expect("parsed events keep their raw JSON");
    serde_json::from_str(raw.get()).expect("the raw JSON of an event is JSON")
}

/// Asserts that `actual` equals `expected` exactly (no missing and no extra keys), listing
/// every differing path so one run shows everything that is off.
#[track_caller]
pub(crate) fn assert_json_eq(actual: &Value, expected: &Value) {
    let mut diffs = Vec::new();
    diff("$", actual, expected, &mut diffs);
    assert!(
        diffs.is_empty(),
        "the JSON form differs from the expectation:\n  {}\nwhole JSON form: {actual:#}",
        diffs.join("\n  ")
    );
}

fn diff(path: &str, actual: &Value, expected: &Value, out: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            for (key, want) in expected {
                match actual.get(key) {
                    Some(got) => diff(&format!("{path}.{key}"), got, want, out),
                    None => out.push(format!("{path}.{key}: missing, expected {want}")),
                }
            }
            for (key, got) in actual {
                if !expected.contains_key(key) {
                    out.push(format!("{path}.{key}: not expected, got {got}"));
                }
            }
        }
        (Value::Array(got), Value::Array(want)) if got.len() == want.len() => {
            for (i, (got, want)) in got.iter().zip(want).enumerate() {
                diff(&format!("{path}[{i}]"), got, want, out);
            }
        }
        _ if actual == expected => {}
        _ => out.push(format!("{path}: expected {expected}, got {actual}")),
    }
}

/// `base` with some of its keys replaced; a key `base` lacks is a typo in the test.
#[track_caller]
pub(crate) fn with(mut base: Value, fields: Value) -> Value {
    let (Some(target), Value::Object(fields)) = (base.as_object_mut(), fields) else {
        panic!("with() merges an object into an object");
    };
    for (key, value) in fields {
        assert!(
            target.contains_key(&key),
            "{key:?} is not a field of {target:?}"
        );
        target.insert(key, value);
    }
    base
}

/// Removes `keys` from the object at `pointer`, to leave out of a comparison what another
/// test asserts.
#[track_caller]
pub(crate) fn without(mut value: Value, pointer: &str, keys: &[&str]) -> Value {
    let object = value
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer}"));
    for key in keys {
        assert!(object.remove(*key).is_some(), "no {key:?} at {pointer}");
    }
    value
}

/// The JSON form of a message (or echo) with only a mid; tests fill in the rest with [`with`].
pub(crate) fn message(mid: &str) -> Value {
    json!({
        "mid": mid,
        "text": null,
        "attachments": [],
        "quick_reply": null,
        "reply_to": null,
        "is_unsupported": false,
        "referral": null,
        "commands": [],
        "app_id": null,
        "metadata": null,
    })
}

/// The JSON form of an attachment whose payload carries only a URL.
pub(crate) fn url_attachment(kind: &str, url: &str) -> Value {
    json!({
        "type": kind,
        "url": url,
        "title": null,
        "sticker_id": null,
        "coordinates": null,
        "payload": { "url": url },
    })
}

/// The JSON form of an empty referral; tests fill it in with [`with`].
pub(crate) fn referral() -> Value {
    json!({
        "ref": null,
        "source": null,
        "type": null,
        "ad_id": null,
        "referer_uri": null,
        "other": {},
    })
}
