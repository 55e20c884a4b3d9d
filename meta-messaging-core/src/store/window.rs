//! The messaging window: when a business may answer a user, computed from the user's last
//! inbound message or window-opening event (see `docs/comments-and-handover.md`).

use serde::{Deserialize, Serialize};

/// The standard window: 24 hours after the user's last message, any reply may be sent.
pub const STANDARD_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// The human-agent window: up to 7 days after the user's last message, a person (not a bot)
/// may still reply, with the `HUMAN_AGENT` message tag.
pub const HUMAN_AGENT_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// Which replies a conversation accepts now. JSON: `"open"`, `"human_agent"`, `"closed"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WindowState {
    /// Within 24 hours of the user's last message: any reply, no tag.
    Open,
    /// Between 24 hours and 7 days: only a human agent, with the `HUMAN_AGENT` tag.
    HumanAgent,
    /// More than 7 days: nothing until the user writes again.
    Closed,
}

impl WindowState {
    /// `"open"`, `"human_agent"` or `"closed"`, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::HumanAgent => "human_agent",
            Self::Closed => "closed",
        }
    }
}

/// A conversation's messaging window at one instant.
///
/// JSON: `{"state": "open", "closes_at": 1700086400000}`; `closes_at` (ms since the epoch) is
/// when the current state ends: 24 hours after the user's last message while open, 7 days
/// after it in the human-agent state, and `null` once closed (only the user can open it
/// again, and nobody knows when).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct MessagingWindow {
    /// What may be sent now.
    pub state: WindowState,
    /// When `state` ends, in ms since the epoch; `None` when closed.
    pub closes_at: Option<i64>,
}

impl MessagingWindow {
    /// The window at `now_ms` of a conversation whose user last wrote (or opened the window
    /// otherwise: a postback, a referral, a reaction) at `last_inbound_at_ms`.
    ///
    /// Each state ends at its `closes_at` exactly: a reply 24 hours to the millisecond after
    /// the user's message is already in the human-agent state, and one 7 days after is closed.
    pub fn at(last_inbound_at_ms: i64, now_ms: i64) -> Self {
        let standard_end = last_inbound_at_ms.saturating_add(STANDARD_WINDOW_MS);
        let human_end = last_inbound_at_ms.saturating_add(HUMAN_AGENT_WINDOW_MS);
        if now_ms < standard_end {
            Self {
                state: WindowState::Open,
                closes_at: Some(standard_end),
            }
        } else if now_ms < human_end {
            Self {
                state: WindowState::HumanAgent,
                closes_at: Some(human_end),
            }
        } else {
            Self {
                state: WindowState::Closed,
                closes_at: None,
            }
        }
    }

    /// True while any reply may be sent without a tag.
    pub fn is_open(&self) -> bool {
        self.state == WindowState::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000_000;

    #[test]
    fn open_until_exactly_24_hours() {
        assert_eq!(
            MessagingWindow::at(T, T),
            MessagingWindow {
                state: WindowState::Open,
                closes_at: Some(T + STANDARD_WINDOW_MS)
            }
        );
        let last_ms = MessagingWindow::at(T, T + STANDARD_WINDOW_MS - 1);
        assert_eq!(last_ms.state, WindowState::Open);
        assert!(last_ms.is_open());
    }

    #[test]
    fn human_agent_from_24_hours_until_exactly_7_days() {
        let at_24h = MessagingWindow::at(T, T + STANDARD_WINDOW_MS);
        assert_eq!(at_24h.state, WindowState::HumanAgent);
        assert_eq!(at_24h.closes_at, Some(T + HUMAN_AGENT_WINDOW_MS));
        assert!(!at_24h.is_open());
        let last_ms = MessagingWindow::at(T, T + HUMAN_AGENT_WINDOW_MS - 1);
        assert_eq!(last_ms.state, WindowState::HumanAgent);
    }

    #[test]
    fn closed_from_exactly_7_days() {
        let closed = MessagingWindow::at(T, T + HUMAN_AGENT_WINDOW_MS);
        assert_eq!(
            closed,
            MessagingWindow {
                state: WindowState::Closed,
                closes_at: None
            }
        );
        assert_eq!(
            serde_json::to_value(closed).unwrap(),
            serde_json::json!({"state": "closed", "closes_at": null})
        );
    }

    #[test]
    fn a_time_in_the_future_is_open() {
        // A user's clock (or Meta's timestamp) ahead of ours must not close the window.
        assert_eq!(MessagingWindow::at(T + 60_000, T).state, WindowState::Open);
    }

    #[test]
    fn json_names() {
        let open = MessagingWindow::at(T, T + 1);
        assert_eq!(
            serde_json::to_value(open).unwrap(),
            serde_json::json!({"state": "open", "closes_at": T + STANDARD_WINDOW_MS})
        );
        assert_eq!(WindowState::HumanAgent.as_str(), "human_agent");
        assert_eq!(
            serde_json::to_value(WindowState::HumanAgent).unwrap(),
            "human_agent"
        );
    }
}
