//! Reading conversations, messages and profiles back through the real client, with paging.

use meta_messaging_core::Platform;
use meta_messaging_core::ids::{Psid, UserId};
use meta_messaging_emulator::{Inbound, User, World};

use super::*;

#[tokio::test]
async fn conversations_and_messages_read_back_newest_first() {
    let (emulator, client) = start(None).await;
    emulator
        .user_writes(PSID, Inbound::text("Do you ship to Lyon?"))
        .await
        .unwrap();
    let page = messenger(&client);
    let answer = page.text(Psid::from(PSID), "We do").send().await.unwrap();

    let conversations = page.conversations().page().await.unwrap();
    assert_eq!(conversations.data.len(), 1);
    let conversation = &conversations.data[0];
    assert_eq!(conversation.message_count, Some(2));
    assert!(conversation.participants.data.iter().any(|p| p.id == PSID));

    let messages = page
        .conversation_messages(&conversation.id)
        .page()
        .await
        .unwrap();
    assert_eq!(messages.data.len(), 2);
    assert_eq!(messages.data[0].id, answer.message_id);
    assert_eq!(messages.data[0].message.as_deref(), Some("We do"));
    assert_eq!(messages.data[0].from.as_ref().unwrap().id, PAGE_ID);
    assert_eq!(
        messages.data[1].message.as_deref(),
        Some("Do you ship to Lyon?")
    );
    assert!(
        messages.data[1]
            .created_time
            .as_deref()
            .unwrap()
            .ends_with("+0000")
    );

    let one = page.message(&answer.message_id).await.unwrap();
    assert_eq!(one.to.data[0].id, PSID);

    // Instagram conversations are listed separately.
    assert!(
        instagram(&client)
            .conversations()
            .page()
            .await
            .unwrap()
            .data
            .is_empty()
    );
}

#[tokio::test]
async fn conversations_page_with_cursors() {
    let mut world = World::demo();
    for n in 0..5 {
        world = world.user(User::new(
            format!("70000000000000{n}"),
            Platform::Messenger,
            PAGE_ID,
        ));
    }
    let (emulator, client) = start_world(world).await;
    for n in 0..5 {
        emulator
            .user_writes(&format!("70000000000000{n}"), Inbound::text("hi"))
            .await
            .unwrap();
    }
    let page = messenger(&client);
    let first = page.conversations().limit(3).page().await.unwrap();
    assert_eq!(first.data.len(), 3);
    let cursor = first.next_cursor().unwrap().to_owned();
    let second = page
        .conversations()
        .limit(3)
        .after(cursor)
        .page()
        .await
        .unwrap();
    assert_eq!(second.data.len(), 2);
    assert!(second.next_cursor().is_none());
}

#[tokio::test]
async fn profiles_of_users_who_wrote() {
    let world = World::demo()
        .user(User::new("6758492015649999", Platform::Messenger, PAGE_ID).name("Jane Doe"));
    let (emulator, client) = start_world(world).await;
    let page = messenger(&client);
    let user = UserId::from("6758492015649999");
    // Meta shows a profile only once the user has messaged the account.
    assert!(page.user_profile(&user).await.is_err());
    emulator
        .user_writes("6758492015649999", Inbound::text("hi"))
        .await
        .unwrap();
    let profile = page.user_profile(&user).await.unwrap();
    assert_eq!(profile.first_name.as_deref(), Some("Jane"));
    assert_eq!(profile.last_name.as_deref(), Some("Doe"));
}
