//! Webhook parsing against the fixture corpus in `tests/fixtures/webhooks/`: real delivery
//! shapes for every event kind on both platforms, asserted field by field on the JSON form.

mod corpus;
mod edge_cases;
mod fixture;
mod ids;
mod instagram_events;
mod instagram_messages;
mod messenger_events;
mod messenger_messages;
mod unknown_objects;
