//! Meta's documented limits on the Messenger profile and on structured templates, checked
//! before a call so that a refusal names the limit instead of coming back as Meta's `(#100)`.

use std::fmt;

use super::error::InvalidRequest;

/// One of Meta's limits, with where Meta documents it.
///
/// Lengths count Unicode characters, as Meta's references say "N character limit".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// At most 4 ice breaker questions per locale (Ice Breakers reference: "A maximum of 4
    /// questions can be set").
    IceBreakerQuestions,
    /// At most 20 items in a persistent menu, per locale (Persistent Menu: "up to 20 buttons
    /// in the `call_to_actions` array for Graph API v8.0+", which replaced nested menus).
    PersistentMenuItems,
    /// A persistent menu item's title: 1 to 30 characters ("30 character limit").
    MenuItemTitle,
    /// A postback payload (get started, menu item, ice breaker, button): 1 to 1000 characters
    /// (Get Started and Persistent Menu references: "1000 character limit").
    PostbackPayload,
    /// A greeting's text: 1 to 160 characters (Greeting Text reference: "160 character
    /// limit").
    GreetingText,
    /// A template button's title: 1 to 20 characters (Buttons reference, postback and URL
    /// buttons: "20 character limit").
    ButtonTitle,
    /// At most 10 elements in a generic template (Generic template: "Maximum of 10
    /// elements"; Instagram's generic template has the same carousel limit).
    TemplateElements,
    /// A generic template element's title: 1 to 80 characters ("80 character limit").
    ElementTitle,
    /// A generic template element's subtitle: at most 80 characters ("80 character limit").
    ElementSubtitle,
    /// At most 3 buttons on a generic or media template element ("Maximum of 3 buttons").
    ElementButtons,
    /// A button template's text: 1 to 640 characters (Button template: "UTF-8-encoded text
    /// of up to 640 characters").
    ButtonTemplateText,
    /// A button template has 1 to 3 buttons ("Set of 1-3 buttons").
    ButtonTemplateButtons,
}

impl Limit {
    /// The smallest length or count allowed.
    pub fn min(self) -> usize {
        match self {
            Self::ElementSubtitle
            | Self::ElementButtons
            | Self::IceBreakerQuestions
            | Self::PersistentMenuItems => 0,
            _ => 1,
        }
    }

    /// The largest length or count allowed.
    pub fn max(self) -> usize {
        match self {
            Self::IceBreakerQuestions => 4,
            Self::PostbackPayload => 1000,
            Self::PersistentMenuItems | Self::ButtonTitle => 20,
            Self::MenuItemTitle => 30,
            Self::GreetingText => 160,
            Self::TemplateElements => 10,
            Self::ElementTitle | Self::ElementSubtitle => 80,
            Self::ElementButtons | Self::ButtonTemplateButtons => 3,
            Self::ButtonTemplateText => 640,
        }
    }

    /// What is counted: `characters` or `items`.
    pub fn unit(self) -> &'static str {
        match self {
            Self::IceBreakerQuestions
            | Self::PersistentMenuItems
            | Self::TemplateElements
            | Self::ElementButtons
            | Self::ButtonTemplateButtons => "items",
            _ => "characters",
        }
    }

    /// The limit's name, as Meta's field: `greeting.text`, `template.elements`, ...
    pub fn name(self) -> &'static str {
        match self {
            Self::IceBreakerQuestions => "ice_breakers.call_to_actions",
            Self::PersistentMenuItems => "persistent_menu.call_to_actions",
            Self::MenuItemTitle => "persistent_menu.call_to_actions.title",
            Self::PostbackPayload => "payload",
            Self::GreetingText => "greeting.text",
            Self::ButtonTitle => "button.title",
            Self::TemplateElements => "template.elements",
            Self::ElementTitle => "element.title",
            Self::ElementSubtitle => "element.subtitle",
            Self::ElementButtons => "element.buttons",
            Self::ButtonTemplateText => "button_template.text",
            Self::ButtonTemplateButtons => "button_template.buttons",
        }
    }

    /// Checks a text's length in characters.
    pub(crate) fn check_text(self, at: impl FnOnce() -> String, text: &str) -> Check {
        self.check_count(at, text.chars().count())
    }

    /// Checks a length or a count.
    pub(crate) fn check_count(self, at: impl FnOnce() -> String, found: usize) -> Check {
        if (self.min()..=self.max()).contains(&found) {
            Ok(())
        } else {
            Err(InvalidRequest::OutOfLimit {
                limit: self,
                at: at(),
                found,
            })
        }
    }
}

/// The outcome of checking one limit.
pub(crate) type Check = Result<(), InvalidRequest>;

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, min, max, unit) = (self.name(), self.min(), self.max(), self.unit());
        if min == 0 {
            write!(f, "Meta allows at most {max} {unit} ({name})")
        } else {
            write!(f, "Meta allows {min} to {max} {unit} ({name})")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_limit_and_where() {
        let err = Limit::GreetingText
            .check_text(|| "greeting[0].text".into(), &"é".repeat(161))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "greeting[0].text has 161 characters; Meta allows 1 to 160 characters (greeting.text)"
        );
        assert!(
            Limit::GreetingText
                .check_text(String::new, &"é".repeat(160))
                .is_ok()
        );
        let empty = Limit::ButtonTitle
            .check_text(|| "b".into(), "")
            .unwrap_err();
        assert!(matches!(
            empty,
            InvalidRequest::OutOfLimit {
                limit: Limit::ButtonTitle,
                found: 0,
                ..
            }
        ));
        let many = Limit::IceBreakerQuestions
            .check_count(|| "ice_breakers[0]".into(), 5)
            .unwrap_err();
        assert_eq!(
            many.to_string(),
            "ice_breakers[0] has 5 items; Meta allows at most 4 items (ice_breakers.call_to_actions)"
        );
    }
}
