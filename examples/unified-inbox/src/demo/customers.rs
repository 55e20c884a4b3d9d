//! The simulated customers: an opening scene, then one thing every few seconds (messages, edits,
//! unsends, comments on the accounts' posts), and answers to the operator's replies (the
//! customer reads them, loves some, and taps offered quick replies).

use std::sync::Arc;
use std::time::Duration;

use meta_messaging_emulator::{Inbound, InboundComment, InboundReaction, RunningEmulator};
use rand::seq::IndexedRandom;

use super::Demo;
use super::cast::{CUSTOMERS, GONE_CUSTOMER, LATE_CUSTOMER};
use super::media::PATH as MEDIA;

const ADA: &str = "6758492015643287";
const GRACE: &str = "5000000000000001";
const ALAN: &str = "6758492015643288";
const KATHERINE: &str = "5000000000000002";

/// One thing a customer does.
enum Beat {
    /// Writes a text, with an attachment `(type, file under /demo-media)` when given.
    Write(
        &'static str,
        &'static str,
        Option<(&'static str, &'static str)>,
    ),
    /// Edits their last message to this text.
    Edit(&'static str, &'static str),
    /// Unsends their last message (Instagram).
    Unsend(&'static str),
    /// Comments under the first post of their Page or Instagram account.
    Comment(&'static str, &'static str),
}

/// What happens first, so the inbox is not empty when it opens.
const OPENING: &[Beat] = &[
    Beat::Write(ADA, "Hi! Do you have the Runner 2 in size 42?", None),
    Beat::Write(
        GRACE,
        "Loved your story! Are these the new Runners?",
        Some(("story_mention", "sneaker.svg")),
    ),
    Beat::Write(
        ALAN,
        "Is this the one from your window display?",
        Some(("image", "sneaker.svg")),
    ),
    Beat::Write(KATHERINE, "", Some(("audio", "voice-note.wav"))),
    Beat::Comment(ADA, "Are these waterproof?"),
    Beat::Comment(GRACE, "Do they come in white? \u{1f60d}"),
];

/// Then, one beat per tick, in this order, over and over.
const SCRIPT: &[Beat] = &[
    Beat::Write(ADA, "Also, do you ship to Lyon?", None),
    Beat::Write(KATHERINE, "Can I pay on delivery?", None),
    Beat::Edit(
        GRACE,
        "Loved your story! Are these the new Runners? In red?",
    ),
    Beat::Write(
        ALAN,
        "Here is my receipt from last time",
        Some(("file", "receipt.txt")),
    ),
    Beat::Write(KATHERINE, "oops, wrong chat", None),
    Beat::Unsend(KATHERINE),
    Beat::Write(GRACE, "Do you have them in size 38?", None),
    Beat::Comment(ALAN, "What is the price?"),
    Beat::Write(ADA, "Great, thanks!", None),
];

/// What any customer may say once the script has run.
const SMALL_TALK: &[&str] = &[
    "Is the store open on Sunday?",
    "Any discount for a second pair?",
    "How long does delivery take?",
    "Do you have wide fits?",
    "Can I exchange for another colour?",
    "Thank you, that helps!",
];

/// The conversation so far, as the customers see it.
struct Scene {
    emulator: Arc<RunningEmulator>,
    media: String,
    /// How many of the operator's sends the customers have answered.
    answered: usize,
    /// The last message each customer wrote, for edits and unsends.
    last: Vec<(&'static str, String)>,
}

/// Plays the opening scene (the late customers' messages from yesterday and last week, then the first
/// messages of the others) and returns; then, when `every` is set, the customers do one thing
/// that often, in the background.
pub(crate) async fn start(demo: &Demo, base: &str, every: Option<Duration>) {
    let mut scene = Scene::new(demo, base);
    let yesterday = now_ms() - 30 * 3_600_000;
    let late =
        Inbound::text("Hello, can I still return the boots I bought last month?").at(yesterday);
    if let Err(err) = scene.emulator.user_writes(LATE_CUSTOMER, late).await {
        tracing::warn!(error = %meta_messaging_core::error::ErrorChain(&err), "demo: the late customer could not write");
    }
    let last_week = now_ms() - 8 * 24 * 3_600_000;
    let gone = Inbound::text("Do you ship to Boston?").at(last_week);
    if let Err(err) = scene.emulator.user_writes(GONE_CUSTOMER, gone).await {
        tracing::warn!(error = %meta_messaging_core::error::ErrorChain(&err), "demo: the gone customer could not write");
    }
    for beat in OPENING {
        scene.play(beat).await;
    }
    let Some(every) = every else {
        return;
    };
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.tick().await;
        for turn in 0.. {
            ticks.tick().await;
            scene.answer_replies().await;
            match SCRIPT.get(turn) {
                Some(beat) => scene.play(beat).await,
                None => scene.small_talk().await,
            }
        }
    });
}

impl Scene {
    fn new(demo: &Demo, base: &str) -> Self {
        Self {
            emulator: Arc::clone(&demo.emulator),
            media: format!("{base}{MEDIA}"),
            answered: 0,
            last: Vec::new(),
        }
    }

    async fn play(&mut self, beat: &Beat) {
        let emulator = Arc::clone(&self.emulator);
        let outcome = match beat {
            Beat::Write(who, text, attachment) => {
                let mut inbound = match attachment {
                    Some((kind, file)) => {
                        Inbound::attachment(*kind, format!("{}/{file}", self.media))
                    }
                    None => Inbound::default(),
                };
                if !text.is_empty() {
                    inbound.text = Some((*text).to_owned());
                }
                emulator.user_writes(who, inbound).await.map(|mid| {
                    self.last.retain(|(id, _)| id != who);
                    self.last.push((who, mid.as_str().to_owned()));
                })
            }
            Beat::Edit(who, text) => match self.last_of(who) {
                Some(mid) => emulator.user_edits(who, &mid, text).await,
                None => Ok(()),
            },
            Beat::Unsend(who) => match self.last_of(who) {
                Some(mid) => emulator.user_unsends(who, &mid).await,
                None => Ok(()),
            },
            Beat::Comment(who, text) => emulator
                .user_comments(who, InboundComment::text(*text))
                .await
                .map(drop),
        };
        if let Err(err) = outcome {
            tracing::warn!(error = %meta_messaging_core::error::ErrorChain(&err), "demo: a customer could not act");
        }
    }

    fn last_of(&self, who: &str) -> Option<String> {
        self.last
            .iter()
            .find(|(id, _)| *id == who)
            .map(|(_, mid)| mid.clone())
    }

    /// Each new reply from the operator is read by its customer; every other one gets a ❤, and
    /// offered quick replies get their first option tapped.
    async fn answer_replies(&mut self) {
        let sent = self.emulator.sent_messages();
        for (index, reply) in sent.iter().enumerate().skip(self.answered) {
            let who = reply.recipient_id.as_str();
            let mut outcome = self.emulator.user_reads(who).await;
            if outcome.is_ok() && index % 2 == 0 {
                let love = InboundReaction::love(reply.message_id.as_str());
                outcome = self.emulator.user_reacts(who, love).await;
            }
            let first_option = reply
                .message
                .pointer("/quick_replies/0")
                .and_then(|q| Some((q.get("title")?.as_str()?, q.get("payload")?.as_str()?)));
            if let (Ok(()), Some((title, payload))) = (&outcome, first_option) {
                let tap = Inbound::text(title).quick_reply(payload);
                outcome = self.emulator.user_writes(who, tap).await.map(|_| ());
            }
            if let Err(err) = outcome {
                tracing::warn!(error = %meta_messaging_core::error::ErrorChain(&err), "demo: a customer could not answer a reply");
            }
        }
        self.answered = sent.len();
    }

    async fn small_talk(&mut self) {
        // The generator is not Send: pick before the first await.
        let pick = {
            let mut rng = rand::rng();
            let talkative: Vec<&'static str> = CUSTOMERS
                .iter()
                .filter(|c| c.id != LATE_CUSTOMER && c.id != GONE_CUSTOMER)
                .map(|c| c.id)
                .collect();
            talkative
                .choose(&mut rng)
                .copied()
                .zip(SMALL_TALK.choose(&mut rng).copied())
        };
        if let Some((who, text)) = pick {
            self.play(&Beat::Write(who, text, None)).await;
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
