//! Checks over the whole fixture directory: nothing parsed is dropped, and nothing on disk
//! goes unasserted.

use serde_json::Value;

use super::fixture::{self, load_path};

/// The sources of the tests that assert fixtures by name.
const NAMED_TESTS: [&str; 6] = [
    include_str!("messenger_messages.rs"),
    include_str!("messenger_events.rs"),
    include_str!("instagram_messages.rs"),
    include_str!("instagram_events.rs"),
    include_str!("edge_cases.rs"),
    include_str!("unknown_objects.rs"),
];

/// What `parse` must turn `delivery` into, worked out from the JSON alone: one event per
/// `messaging[]`, `standby[]` and `changes[]` item (in that order within an entry), and one
/// for a whole entry that is not an object or has none of the three lists. A delivery of an
/// object other than `page` and `instagram` is one event per entry, which keeps a one-entry
/// delivery of that object.
fn expected_items(delivery: &Value) -> Vec<Value> {
    let entries = delivery["entry"]
        .as_array()
        .expect("a fixture is a delivery with an entry list");
    let object = &delivery["object"];
    if object != "page" && object != "instagram" {
        return entries
            .iter()
            .map(|entry| serde_json::json!({ "object": object, "entry": [entry] }))
            .collect();
    }
    let mut items = Vec::new();
    for entry in entries {
        let lists: Vec<&Value> = ["messaging", "standby", "changes"]
            .iter()
            .filter_map(|key| entry.get(key).filter(|list| !list.is_null()))
            .collect();
        if !lists.is_empty() && lists.iter().all(|list| list.is_array()) {
            items.extend(
                lists
                    .into_iter()
                    .flat_map(|list| list.as_array().into_iter().flatten().cloned()),
            );
        } else {
            items.push(entry.clone());
        }
    }
    items
}

#[test]
fn every_fixture_parses_and_no_event_is_dropped() {
    let paths = fixture::all();
    // An empty or misplaced directory must not make this test pass vacuously.
    assert!(
        paths.len() >= 40,
        "only {} fixtures in {}",
        paths.len(),
        fixture::DIR
    );
    for path in paths {
        let fixture = load_path(&path);
        let name = &fixture.name;
        let delivery: Value = serde_json::from_slice(&fixture.body)
            .unwrap_or_else(|err| panic!("{name} is not JSON: {err}"));
        let expected = expected_items(&delivery);
        assert_eq!(
            fixture.events.len(),
            expected.len(),
            "{name}: one event per messaging/standby/changes item"
        );
        for (i, ((event, json), item)) in fixture
            .events
            .iter()
            .zip(&fixture.json)
            .zip(&expected)
            .enumerate()
        {
            assert_eq!(
                &fixture::raw(event),
                item,
                "{name} event {i}: its raw JSON is not the item Meta sent in that place"
            );
            let kind = event.kind().as_str();
            assert_eq!(json["kind"], kind, "{name} event {i}");
            assert!(
                json.get(kind).is_some_and(Value::is_object),
                "{name} event {i}: the JSON form has no {kind:?} object: {json:#}"
            );
        }
    }
}

#[test]
fn every_fixture_is_asserted_by_a_named_test() {
    let unasserted: Vec<String> = fixture::all()
        .iter()
        .filter_map(|path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .filter(|name| {
            let call = format!("load(\"{name}\")");
            // Whitespace is dropped so a call rustfmt wraps over lines still counts.
            !NAMED_TESTS.iter().any(|source| {
                let source: String = source.split_whitespace().collect();
                source.contains(&call)
            })
        })
        .collect();
    assert!(
        unasserted.is_empty(),
        "fixtures that no named test loads: {unasserted:?}"
    );
}
