//! The messaging window at send time: which tag a send carries, or why it is refused before
//! it reaches Meta.

use super::{Inbox, InboxError, SendRequest};
use crate::graph::MessageTag;
use crate::ids::TenantId;
use crate::store::{MessagingWindow, WindowState, now_ms};

/// Why a send is refused before Meta sees it: the conversation's window does not allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WindowRefusal {
    /// When the customer last wrote (or opened the window otherwise), in ms since the epoch.
    pub last_inbound_at_ms: i64,
    /// The window when the send was refused.
    pub window: MessagingWindow,
    /// Whether the request said a human wrote the message.
    pub human_agent: bool,
}

impl WindowRefusal {
    /// When the 24-hour standard window ended.
    pub fn standard_closed_at_ms(&self) -> i64 {
        self.last_inbound_at_ms
            .saturating_add(crate::store::STANDARD_WINDOW_MS)
    }

    /// When the 7-day human-agent window ends (or ended).
    pub fn human_agent_closes_at_ms(&self) -> i64 {
        self.last_inbound_at_ms
            .saturating_add(crate::store::HUMAN_AGENT_WINDOW_MS)
    }

    /// What went wrong, with the times.
    pub(crate) fn message(&self) -> String {
        let last = utc(self.last_inbound_at_ms);
        let standard = utc(self.standard_closed_at_ms());
        match self.window.state {
            WindowState::HumanAgent => format!(
                "the customer last wrote at {last}; the 24-hour messaging window closed at {standard}"
            ),
            _ => format!(
                "the customer last wrote at {last}; the 24-hour messaging window closed at {standard} \
                 and the 7-day human-agent window at {}",
                utc(self.human_agent_closes_at_ms())
            ),
        }
    }

    /// What to do about it.
    pub(crate) fn fix(&self) -> String {
        match self.window.state {
            WindowState::HumanAgent => format!(
                "A human agent may reply with \"human_agent\": true until {}; otherwise wait for the customer to write.",
                utc(self.human_agent_closes_at_ms())
            ),
            _ => "Wait for the customer to write again (a message, a button, a link); only a message tag \
                  Meta allows for the purpose (\"tag\") may be sent before."
                .to_owned(),
        }
    }
}

impl Inbox {
    /// The tag a send carries, given its conversation's window now:
    ///
    /// - an explicit tag other than `HUMAN_AGENT`: as given, unchecked (its rules are Meta's);
    /// - no conversation, or none from the user yet: as given (only Meta knows the window);
    /// - an open window: as given (none unless the request named one);
    /// - the human-agent state: `HUMAN_AGENT` when the request says a human wrote the message
    ///   (`human_agent`, or the tag itself), else refused;
    /// - a closed window: refused.
    pub(super) async fn window_tag(
        &self,
        tenant: &TenantId,
        request: &SendRequest,
    ) -> Result<Option<MessageTag>, InboxError> {
        if request
            .tag
            .as_ref()
            .is_some_and(|tag| *tag != MessageTag::HumanAgent)
        {
            return Ok(request.tag.clone());
        }
        let human_agent = request.human_agent || request.tag == Some(MessageTag::HumanAgent);
        let conversation = self
            .inner
            .store
            .find_conversation(
                tenant,
                request.platform,
                &request.account_id,
                &request.recipient_id,
            )
            .await?;
        let Some(last_inbound_at_ms) = conversation.and_then(|c| c.last_inbound_at_ms) else {
            return Ok(request.tag.clone());
        };
        let window = MessagingWindow::at(last_inbound_at_ms, now_ms());
        match window.state {
            WindowState::Open => Ok(request.tag.clone()),
            WindowState::HumanAgent if human_agent => Ok(Some(MessageTag::HumanAgent)),
            _ => Err(InboxError::OutsideMessagingWindow(WindowRefusal {
                last_inbound_at_ms,
                window,
                human_agent,
            })),
        }
    }
}

/// A time in ms since the epoch as UTC RFC 3339 (`2026-12-01T18:58:38Z`), to the second.
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{HUMAN_AGENT_WINDOW_MS, STANDARD_WINDOW_MS};

    #[test]
    fn utc_times() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(utc(-1_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn refusals_say_the_times_and_the_fix() {
        let last = 1_700_000_000_000;
        let human = WindowRefusal {
            last_inbound_at_ms: last,
            window: MessagingWindow::at(last, last + STANDARD_WINDOW_MS),
            human_agent: false,
        };
        assert_eq!(
            human.message(),
            "the customer last wrote at 2023-11-14T22:13:20Z; the 24-hour messaging window closed at 2023-11-15T22:13:20Z"
        );
        assert!(
            human
                .fix()
                .contains("\"human_agent\": true until 2023-11-21T22:13:20Z"),
            "{}",
            human.fix()
        );
        let closed = WindowRefusal {
            window: MessagingWindow::at(last, last + HUMAN_AGENT_WINDOW_MS),
            human_agent: true,
            ..human
        };
        assert!(
            closed
                .message()
                .ends_with("the 7-day human-agent window at 2023-11-21T22:13:20Z")
        );
        assert!(closed.fix().starts_with("Wait for the customer"));
    }
}
