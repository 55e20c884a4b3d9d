//! The Messenger profile of a Page or Instagram account: the Get Started button, the greeting,
//! ice breakers and the persistent menu, with Meta's limits.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::Platform;

use super::button::Button;
use super::error::InvalidRequest;
use super::limit::{Check, Limit};

/// The locale Meta falls back to; every localized field needs an entry for it.
pub const DEFAULT_LOCALE: &str = "default";

/// A field of the Messenger profile this crate types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProfileField {
    /// `get_started`
    GetStarted,
    /// `greeting`
    Greeting,
    /// `ice_breakers`
    IceBreakers,
    /// `persistent_menu`
    PersistentMenu,
}

impl ProfileField {
    /// Every field, in Meta's order.
    pub const ALL: [Self; 4] = [
        Self::GetStarted,
        Self::Greeting,
        Self::IceBreakers,
        Self::PersistentMenu,
    ];

    /// Meta's name (`get_started`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GetStarted => "get_started",
            Self::Greeting => "greeting",
            Self::IceBreakers => "ice_breakers",
            Self::PersistentMenu => "persistent_menu",
        }
    }

    /// Whether Meta takes this field for the platform: Instagram has ice breakers and the
    /// persistent menu, not the Get Started button nor the greeting.
    pub fn supported_on(self, platform: Platform) -> bool {
        platform != Platform::Instagram || matches!(self, Self::IceBreakers | Self::PersistentMenu)
    }
}

impl fmt::Display for ProfileField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Messenger profile: each field is `None` when not set (on a read) or not to be changed
/// (on a write).
///
/// ```
/// use meta_messaging_core::graph::{Button, Greeting, IceBreaker, IceBreakers, MessengerProfile, PersistentMenu};
///
/// let profile = MessengerProfile::new()
///     .greeting(vec![Greeting::new("default", "Hello {{user_first_name}}!")])
///     .ice_breakers(vec![IceBreakers::new("default", vec![IceBreaker::new("Where is my order?", "ORDER")])])
///     .persistent_menu(vec![PersistentMenu::new("default", vec![Button::postback("Talk to us", "AGENT")])]);
/// assert!(profile.validate(meta_messaging_core::Platform::Messenger).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessengerProfile {
    /// The Get Started button's postback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_started: Option<GetStarted>,
    /// The welcome screen's text, per locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<Vec<Greeting>>,
    /// Questions offered to start a conversation, per locale.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "ice_breakers"
    )]
    pub ice_breakers: Option<Vec<IceBreakers>>,
    /// The menu always available in the conversation, per locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_menu: Option<Vec<PersistentMenu>>,
}

impl MessengerProfile {
    /// An empty profile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the Get Started button.
    #[must_use]
    pub fn get_started(mut self, payload: impl Into<String>) -> Self {
        self.get_started = Some(GetStarted::new(payload));
        self
    }

    /// Sets the greeting.
    #[must_use]
    pub fn greeting(mut self, greeting: Vec<Greeting>) -> Self {
        self.greeting = Some(greeting);
        self
    }

    /// Sets the ice breakers.
    #[must_use]
    pub fn ice_breakers(mut self, ice_breakers: Vec<IceBreakers>) -> Self {
        self.ice_breakers = Some(ice_breakers);
        self
    }

    /// Sets the persistent menu.
    #[must_use]
    pub fn persistent_menu(mut self, menu: Vec<PersistentMenu>) -> Self {
        self.persistent_menu = Some(menu);
        self
    }

    /// The fields that are set.
    pub fn fields(&self) -> Vec<ProfileField> {
        ProfileField::ALL
            .into_iter()
            .filter(|field| self.has(*field))
            .collect()
    }

    /// Whether `field` is set.
    pub fn has(&self, field: ProfileField) -> bool {
        match field {
            ProfileField::GetStarted => self.get_started.is_some(),
            ProfileField::Greeting => self.greeting.is_some(),
            ProfileField::IceBreakers => self.ice_breakers.is_some(),
            ProfileField::PersistentMenu => self.persistent_menu.is_some(),
        }
    }

    /// Whether `field` has the same value here and in `other` (both unset counts as equal).
    pub fn same(&self, other: &Self, field: ProfileField) -> bool {
        match field {
            ProfileField::GetStarted => self.get_started == other.get_started,
            ProfileField::Greeting => self.greeting == other.greeting,
            ProfileField::IceBreakers => self.ice_breakers == other.ice_breakers,
            ProfileField::PersistentMenu => self.persistent_menu == other.persistent_menu,
        }
    }

    /// A copy with only `fields` kept.
    #[must_use]
    pub fn only(&self, fields: &[ProfileField]) -> Self {
        let keep = |field| fields.contains(&field);
        Self {
            get_started: self
                .get_started
                .clone()
                .filter(|_| keep(ProfileField::GetStarted)),
            greeting: self
                .greeting
                .clone()
                .filter(|_| keep(ProfileField::Greeting)),
            ice_breakers: self
                .ice_breakers
                .clone()
                .filter(|_| keep(ProfileField::IceBreakers)),
            persistent_menu: self
                .persistent_menu
                .clone()
                .filter(|_| keep(ProfileField::PersistentMenu)),
        }
    }

    /// Checks the profile against Meta's limits for `platform`.
    ///
    /// # Errors
    /// [`InvalidRequest::OutOfLimit`] naming the limit, [`InvalidRequest::MissingDefaultLocale`]
    /// for a localized field without a `default` entry, or [`InvalidRequest::Unsupported`] for
    /// a field the platform does not take.
    pub fn validate(&self, platform: Platform) -> Result<(), InvalidRequest> {
        for field in self.fields() {
            if !field.supported_on(platform) {
                return Err(InvalidRequest::Unsupported {
                    what: field.as_str(),
                    route: "on Instagram (only ice_breakers and persistent_menu are)",
                });
            }
        }
        if let Some(get_started) = &self.get_started {
            Limit::PostbackPayload
                .check_text(|| "get_started.payload".into(), &get_started.payload)?;
        }
        if let Some(greeting) = &self.greeting {
            has_default("greeting", greeting.iter().map(|g| g.locale.as_str()))?;
            for (i, g) in greeting.iter().enumerate() {
                Limit::GreetingText.check_text(|| format!("greeting[{i}].text"), &g.text)?;
            }
        }
        if let Some(ice_breakers) = &self.ice_breakers {
            has_default(
                "ice_breakers",
                ice_breakers.iter().map(|b| b.locale.as_str()),
            )?;
            for (i, locale) in ice_breakers.iter().enumerate() {
                locale.check(i)?;
            }
        }
        if let Some(menu) = &self.persistent_menu {
            has_default("persistent_menu", menu.iter().map(|m| m.locale.as_str()))?;
            for (i, locale) in menu.iter().enumerate() {
                locale.check(i)?;
            }
        }
        Ok(())
    }
}

fn has_default<'a>(field: &'static str, mut locales: impl Iterator<Item = &'a str>) -> Check {
    if locales.any(|l| l == DEFAULT_LOCALE) {
        Ok(())
    } else {
        Err(InvalidRequest::MissingDefaultLocale { field })
    }
}

/// The Get Started button: `payload` comes back as a postback when a person taps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetStarted {
    /// The postback payload (1000 characters).
    pub payload: String,
}

impl GetStarted {
    /// A Get Started button with its payload.
    pub fn new(payload: impl Into<String>) -> Self {
        Self {
            payload: payload.into(),
        }
    }
}

/// The greeting of one locale (160 characters; `{{user_first_name}}` and the like are
/// replaced by Meta).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Greeting {
    /// `default` or a locale such as `en_US`.
    pub locale: String,
    /// The text.
    pub text: String,
}

impl Greeting {
    /// The greeting for `locale`.
    pub fn new(locale: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            locale: locale.into(),
            text: text.into(),
        }
    }
}

/// The ice breakers of one locale (Meta's localized format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IceBreakers {
    /// The questions, at most 4.
    pub call_to_actions: Vec<IceBreaker>,
    /// `default` or a locale such as `en_GB`.
    pub locale: String,
}

impl IceBreakers {
    /// The ice breakers for `locale`.
    pub fn new(locale: impl Into<String>, questions: Vec<IceBreaker>) -> Self {
        Self {
            call_to_actions: questions,
            locale: locale.into(),
        }
    }

    fn check(&self, i: usize) -> Check {
        Limit::IceBreakerQuestions.check_count(
            || format!("ice_breakers[{i}].call_to_actions"),
            self.call_to_actions.len(),
        )?;
        for (j, question) in self.call_to_actions.iter().enumerate() {
            Limit::PostbackPayload.check_text(
                || format!("ice_breakers[{i}].call_to_actions[{j}].payload"),
                &question.payload,
            )?;
        }
        Ok(())
    }
}

/// One ice breaker: a question a person can tap, sent back as a postback with `payload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IceBreaker {
    /// The question shown.
    pub question: String,
    /// What the postback carries back.
    pub payload: String,
}

impl IceBreaker {
    /// A question and its payload.
    pub fn new(question: impl Into<String>, payload: impl Into<String>) -> Self {
        Self {
            question: question.into(),
            payload: payload.into(),
        }
    }
}

/// The persistent menu of one locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PersistentMenu {
    /// `default` or a locale such as `zh_CN`.
    pub locale: String,
    /// Hides the text box: people can only use the menu and buttons.
    #[serde(default)]
    pub composer_input_disabled: bool,
    /// The items (postback or URL buttons, titles of 30 characters), at most 20.
    #[serde(default)]
    pub call_to_actions: Vec<Button>,
}

impl PersistentMenu {
    /// The menu for `locale`.
    pub fn new(locale: impl Into<String>, items: Vec<Button>) -> Self {
        Self {
            locale: locale.into(),
            composer_input_disabled: false,
            call_to_actions: items,
        }
    }

    /// Hides the text box.
    #[must_use]
    pub fn composer_input_disabled(mut self, disabled: bool) -> Self {
        self.composer_input_disabled = disabled;
        self
    }

    fn check(&self, i: usize) -> Check {
        Limit::PersistentMenuItems.check_count(
            || format!("persistent_menu[{i}].call_to_actions"),
            self.call_to_actions.len(),
        )?;
        for (j, item) in self.call_to_actions.iter().enumerate() {
            item.check(
                &format!("persistent_menu[{i}].call_to_actions[{j}]"),
                Limit::MenuItemTitle,
            )?;
        }
        Ok(())
    }
}

/// Reads ice breakers in Meta's localized format, or in the older flat list of questions
/// (which a profile set before localization still answers with) as the `default` locale.
fn ice_breakers<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<IceBreakers>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Localized(IceBreakers),
        Flat(IceBreaker),
    }
    let Some(items) = Option::<Vec<Either>>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let mut localized = Vec::new();
    let mut flat = Vec::new();
    for item in items {
        match item {
            Either::Localized(locale) => localized.push(locale),
            Either::Flat(question) => flat.push(question),
        }
    }
    if !flat.is_empty() {
        localized.push(IceBreakers::new(DEFAULT_LOCALE, flat));
    }
    Ok(Some(localized))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn menu(items: usize) -> PersistentMenu {
        PersistentMenu::new(
            "default",
            (0..items)
                .map(|i| Button::postback(format!("#{i}"), "P"))
                .collect(),
        )
    }

    #[test]
    fn serializes_in_metas_documented_shape() {
        let profile = MessengerProfile::new()
            .get_started("GET_STARTED")
            .greeting(vec![Greeting::new("default", "Hello!")])
            .ice_breakers(vec![IceBreakers::new(
                "default",
                vec![IceBreaker::new("Q?", "P")],
            )])
            .persistent_menu(vec![menu(1)]);
        assert_eq!(
            serde_json::to_value(&profile).unwrap(),
            json!({
                "get_started": {"payload": "GET_STARTED"},
                "greeting": [{"locale": "default", "text": "Hello!"}],
                "ice_breakers": [{"call_to_actions": [{"question": "Q?", "payload": "P"}], "locale": "default"}],
                "persistent_menu": [{
                    "locale": "default",
                    "composer_input_disabled": false,
                    "call_to_actions": [{"type": "postback", "title": "#0", "payload": "P"}],
                }],
            })
        );
    }

    #[test]
    fn reads_the_flat_ice_breakers_format_as_the_default_locale() {
        let profile: MessengerProfile = serde_json::from_value(
            json!({"ice_breakers": [{"question": "Q1", "payload": "P1"}, {"question": "Q2", "payload": "P2"}]}),
        )
        .unwrap();
        assert_eq!(
            profile.ice_breakers,
            Some(vec![IceBreakers::new(
                "default",
                vec![IceBreaker::new("Q1", "P1"), IceBreaker::new("Q2", "P2")]
            )])
        );
    }

    #[test]
    fn limits_are_checked() {
        let ok = MessengerProfile::new().persistent_menu(vec![menu(20)]);
        assert!(ok.validate(Platform::Messenger).is_ok());
        let err = MessengerProfile::new()
            .persistent_menu(vec![menu(21)])
            .validate(Platform::Messenger)
            .unwrap_err();
        assert!(matches!(
            err,
            InvalidRequest::OutOfLimit {
                limit: Limit::PersistentMenuItems,
                found: 21,
                ..
            }
        ));
        let questions = (0..5)
            .map(|i| IceBreaker::new(format!("Q{i}"), "P"))
            .collect();
        let err = MessengerProfile::new()
            .ice_breakers(vec![IceBreakers::new("default", questions)])
            .validate(Platform::Instagram)
            .unwrap_err();
        assert!(matches!(
            err,
            InvalidRequest::OutOfLimit { limit: Limit::IceBreakerQuestions, ref at, found: 5 }
                if at == "ice_breakers[0].call_to_actions"
        ));
        let err = MessengerProfile::new()
            .get_started("x".repeat(1001))
            .validate(Platform::Messenger)
            .unwrap_err();
        assert!(err.to_string().contains("get_started.payload has 1001"));
        let err = MessengerProfile::new()
            .greeting(vec![Greeting::new("en_US", "Hi")])
            .validate(Platform::Messenger)
            .unwrap_err();
        assert_eq!(
            err,
            InvalidRequest::MissingDefaultLocale { field: "greeting" }
        );
        let err = MessengerProfile::new()
            .greeting(vec![Greeting::new("default", "Hi")])
            .validate(Platform::Instagram)
            .unwrap_err();
        assert!(matches!(
            err,
            InvalidRequest::Unsupported {
                what: "greeting",
                ..
            }
        ));
        let long_title = PersistentMenu::new(
            "default",
            vec![Button::web_url("x".repeat(31), "https://example.com")],
        );
        let err = MessengerProfile::new()
            .persistent_menu(vec![long_title])
            .validate(Platform::Messenger)
            .unwrap_err();
        assert!(matches!(
            err,
            InvalidRequest::OutOfLimit {
                limit: Limit::MenuItemTitle,
                found: 31,
                ..
            }
        ));
    }
}
