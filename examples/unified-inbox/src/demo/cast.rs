//! Who is in the demo: the shop's Page and Instagram account, and its customers.

use meta_messaging_core::Platform;
use meta_messaging_emulator::{User, World};

/// The demo Page.
pub const PAGE: &str = "104417552380421";
/// The demo Page's Instagram professional account.
pub const INSTAGRAM_ACCOUNT: &str = "17841400000000000";

/// A customer of the demo shop.
pub(crate) struct Customer {
    pub(crate) id: &'static str,
    pub(crate) platform: Platform,
    pub(crate) name: &'static str,
}

/// Messenger customers by PSID, Instagram customers by IGSID.
pub(crate) const CUSTOMERS: &[Customer] = &[
    Customer {
        id: "6758492015643287",
        platform: Platform::Messenger,
        name: "Ada Lovelace",
    },
    Customer {
        id: "5000000000000001",
        platform: Platform::Instagram,
        name: "Grace Hopper",
    },
    Customer {
        id: "6758492015643288",
        platform: Platform::Messenger,
        name: "Alan Turing",
    },
    Customer {
        id: "5000000000000002",
        platform: Platform::Instagram,
        name: "Katherine Johnson",
    },
    // Wrote more than a day ago: only a human agent may answer (the page's replies are).
    Customer {
        id: "6758492015643289",
        platform: Platform::Messenger,
        name: "Linus Pauling",
    },
    // Wrote more than a week ago: the window is closed until she writes again.
    Customer {
        id: "6758492015643290",
        platform: Platform::Messenger,
        name: "Margaret Hamilton",
    },
];

/// The customer whose last message is older than Meta's 24-hour window.
pub(crate) const LATE_CUSTOMER: &str = "6758492015643289";

/// The customer whose last message is older than the 7 days a human agent has.
pub(crate) const GONE_CUSTOMER: &str = "6758492015643290";

/// The ids of the demo's customers on `platform`.
pub fn customer_ids(platform: Platform) -> Vec<&'static str> {
    CUSTOMERS
        .iter()
        .filter(|c| c.platform == platform)
        .map(|c| c.id)
        .collect()
}

/// The emulated world of the demo: the emulator's demo world (its app, the Page with every
/// messaging permission and its Instagram account), with the cast as its users.
pub(crate) fn world() -> World {
    CUSTOMERS
        .iter()
        .fold(World::demo().demo_history(), |world, c| {
            world.user(User::new(c.id, c.platform, PAGE).name(c.name))
        })
}
