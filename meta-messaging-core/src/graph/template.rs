//! Structured templates: generic (a card, or a carousel of up to 10), button and media, built
//! with Meta's limits checked, sent with [`AccountClient::template`](super::AccountClient::template).
//!
//! They serialize to the Send API's `{"type": "template", "payload": {"template_type": ...}}`
//! attachment. Instagram takes the generic template with the same limits as Messenger (and
//! the button template); the media template is Messenger only.

use serde::Serialize;

use crate::ids::AttachmentId;

use super::button::Button;
use super::error::InvalidRequest;
use super::limit::{Check, Limit};

/// A structured message, checked against Meta's limits when built.
///
/// ```
/// use meta_messaging_core::graph::{Button, GenericElement, Template};
///
/// let card = GenericElement::new("Welcome!")
///     .subtitle("We have the right hat for everyone.")
///     .image_url("https://example.com/hat.jpg")
///     .button(Button::postback("Start Chatting", "START"));
/// let template = Template::generic(vec![card]).unwrap();
/// assert!(Template::button("Pick one", vec![]).is_err(), "a button template needs a button");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "template_type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Template {
    /// Cards with a title, subtitle, image and up to 3 buttons; several make a carousel.
    #[non_exhaustive]
    Generic {
        /// The cards (1 to 10).
        elements: Vec<GenericElement>,
    },
    /// A text with 1 to 3 buttons under it.
    #[non_exhaustive]
    Button {
        /// The text (640 characters).
        text: String,
        /// The buttons.
        buttons: Vec<Button>,
    },
    /// An image or video with up to 3 buttons (Messenger only).
    #[non_exhaustive]
    Media {
        /// Exactly one element, as Meta requires.
        elements: [MediaElement; 1],
    },
}

impl Template {
    /// A generic template: one card, or a carousel of up to 10.
    ///
    /// # Errors
    /// [`InvalidRequest::OutOfLimit`] naming the limit: 1 to 10 elements, titles of 1 to 80
    /// characters, subtitles of 80, at most 3 buttons of 20-character titles.
    pub fn generic(elements: Vec<GenericElement>) -> Result<Self, InvalidRequest> {
        Limit::TemplateElements.check_count(|| "elements".into(), elements.len())?;
        for (i, element) in elements.iter().enumerate() {
            element.check(i)?;
        }
        Ok(Self::Generic { elements })
    }

    /// A button template: a text and 1 to 3 buttons.
    ///
    /// # Errors
    /// [`InvalidRequest::OutOfLimit`]: text of 1 to 640 characters, 1 to 3 buttons.
    pub fn button(text: impl Into<String>, buttons: Vec<Button>) -> Result<Self, InvalidRequest> {
        let text = text.into();
        Limit::ButtonTemplateText.check_text(|| "text".into(), &text)?;
        Limit::ButtonTemplateButtons.check_count(|| "buttons".into(), buttons.len())?;
        check_buttons("buttons", &buttons)?;
        Ok(Self::Button { text, buttons })
    }

    /// A media template: one image or video with up to 3 buttons.
    ///
    /// # Errors
    /// [`InvalidRequest::OutOfLimit`]: at most 3 buttons of 20-character titles.
    pub fn media(element: MediaElement) -> Result<Self, InvalidRequest> {
        Limit::ElementButtons
            .check_count(|| "elements[0].buttons".into(), element.buttons.len())?;
        check_buttons("elements[0].buttons", &element.buttons)?;
        Ok(Self::Media {
            elements: [element],
        })
    }

    /// Meta's `template_type`: `generic`, `button` or `media`.
    pub fn template_type(&self) -> &'static str {
        match self {
            Self::Generic { .. } => "generic",
            Self::Button { .. } => "button",
            Self::Media { .. } => "media",
        }
    }
}

fn check_buttons(at: &str, buttons: &[Button]) -> Check {
    for (i, button) in buttons.iter().enumerate() {
        button.check(&format!("{at}[{i}]"), Limit::ButtonTitle)?;
    }
    Ok(())
}

/// A card of a generic template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct GenericElement {
    /// The title (80 characters).
    pub title: String,
    /// The subtitle (80 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// The image shown on the card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// What tapping the card does: a URL opened like a URL button's, without a title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_action: Option<DefaultAction>,
    /// Up to 3 buttons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

impl GenericElement {
    /// A card with its title.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            subtitle: None,
            image_url: None,
            default_action: None,
            buttons: Vec::new(),
        }
    }

    /// Sets the subtitle.
    #[must_use]
    pub fn subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = Some(subtitle.into());
        self
    }

    /// Sets the image.
    #[must_use]
    pub fn image_url(mut self, url: impl Into<String>) -> Self {
        self.image_url = Some(url.into());
        self
    }

    /// Opens `url` when the card is tapped.
    #[must_use]
    pub fn default_action(mut self, url: impl Into<String>) -> Self {
        self.default_action = Some(DefaultAction {
            kind: "web_url",
            url: url.into(),
        });
        self
    }

    /// Adds a button.
    #[must_use]
    pub fn button(mut self, button: Button) -> Self {
        self.buttons.push(button);
        self
    }

    fn check(&self, i: usize) -> Check {
        Limit::ElementTitle.check_text(|| format!("elements[{i}].title"), &self.title)?;
        if let Some(subtitle) = &self.subtitle {
            Limit::ElementSubtitle.check_text(|| format!("elements[{i}].subtitle"), subtitle)?;
        }
        Limit::ElementButtons
            .check_count(|| format!("elements[{i}].buttons"), self.buttons.len())?;
        check_buttons(&format!("elements[{i}].buttons"), &self.buttons)
    }
}

/// The URL a generic template card opens when tapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DefaultAction {
    #[serde(rename = "type")]
    kind: &'static str,
    /// The URL.
    pub url: String,
}

/// The media of a media template: an image or a video, by a Facebook URL or an uploaded
/// attachment's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MediaElement {
    /// `image` or `video`.
    pub media_type: MediaType,
    /// The uploaded attachment (see
    /// [`AccountClient::upload_attachment`](super::AccountClient::upload_attachment)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<AttachmentId>,
    /// A Facebook URL of the photo or video (Meta takes no other URL here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Up to 3 buttons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

/// What a media template shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MediaType {
    /// An image or animated GIF.
    Image,
    /// A video.
    Video,
}

impl MediaElement {
    /// Media uploaded earlier, by its attachment id.
    pub fn attachment(media_type: MediaType, id: AttachmentId) -> Self {
        Self {
            media_type,
            attachment_id: Some(id),
            url: None,
            buttons: Vec::new(),
        }
    }

    /// A photo or video already on Facebook, by its URL.
    pub fn facebook_url(media_type: MediaType, url: impl Into<String>) -> Self {
        Self {
            media_type,
            attachment_id: None,
            url: Some(url.into()),
            buttons: Vec::new(),
        }
    }

    /// Adds a button.
    #[must_use]
    pub fn button(mut self, button: Button) -> Self {
        self.buttons.push(button);
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generic_template_serializes_as_metas_sample() {
        let element = GenericElement::new("Welcome!")
            .image_url("https://example.com/male-work.jpg")
            .subtitle("We have the right hat for everyone.")
            .default_action("https://www.originalcoastclothing.com")
            .button(Button::web_url(
                "View Website",
                "https://www.originalcoastclothing.com",
            ))
            .button(Button::postback(
                "Start Chatting",
                "DEVELOPER_DEFINED_PAYLOAD",
            ));
        let template = Template::generic(vec![element]).unwrap();
        assert_eq!(
            serde_json::to_value(&template).unwrap(),
            json!({
                "template_type": "generic",
                "elements": [{
                    "title": "Welcome!",
                    "image_url": "https://example.com/male-work.jpg",
                    "subtitle": "We have the right hat for everyone.",
                    "default_action": {"type": "web_url", "url": "https://www.originalcoastclothing.com"},
                    "buttons": [
                        {"type": "web_url", "url": "https://www.originalcoastclothing.com", "title": "View Website"},
                        {"type": "postback", "title": "Start Chatting", "payload": "DEVELOPER_DEFINED_PAYLOAD"},
                    ],
                }],
            })
        );
    }

    #[test]
    fn button_and_media_templates_serialize_as_documented() {
        let template = Template::button(
            "What do you want to do next?",
            vec![Button::postback("Help", "HELP")],
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&template).unwrap(),
            json!({
                "template_type": "button",
                "text": "What do you want to do next?",
                "buttons": [{"type": "postback", "title": "Help", "payload": "HELP"}],
            })
        );
        let media =
            MediaElement::attachment(MediaType::Image, AttachmentId::from("1857777774821032"))
                .button(Button::web_url("View Website", "https://example.com"));
        assert_eq!(
            serde_json::to_value(Template::media(media).unwrap()).unwrap(),
            json!({
                "template_type": "media",
                "elements": [{
                    "media_type": "image",
                    "attachment_id": "1857777774821032",
                    "buttons": [{"type": "web_url", "url": "https://example.com", "title": "View Website"}],
                }],
            })
        );
    }

    #[test]
    fn limits_are_checked_when_built() {
        let card = |i: usize| GenericElement::new(format!("Card {i}"));
        assert!(Template::generic((0..10).map(card).collect()).is_ok());
        assert!(matches!(
            Template::generic((0..11).map(card).collect()),
            Err(InvalidRequest::OutOfLimit {
                limit: Limit::TemplateElements,
                found: 11,
                ..
            })
        ));
        assert!(matches!(
            Template::generic(vec![]),
            Err(InvalidRequest::OutOfLimit {
                limit: Limit::TemplateElements,
                found: 0,
                ..
            })
        ));
        assert!(matches!(
            Template::generic(vec![GenericElement::new("t".repeat(81))]),
            Err(InvalidRequest::OutOfLimit { limit: Limit::ElementTitle, ref at, found: 81 }) if at == "elements[0].title"
        ));
        assert!(matches!(
            Template::generic(vec![card(0), card(1).subtitle("s".repeat(81))]),
            Err(InvalidRequest::OutOfLimit { limit: Limit::ElementSubtitle, ref at, .. }) if at == "elements[1].subtitle"
        ));
        let four = (0..4).fold(card(0), |c, i| {
            c.button(Button::postback(format!("B{i}"), "P"))
        });
        assert!(matches!(
            Template::generic(vec![four]),
            Err(InvalidRequest::OutOfLimit {
                limit: Limit::ElementButtons,
                found: 4,
                ..
            })
        ));
        assert!(matches!(
            Template::button("x".repeat(641), vec![Button::postback("A", "P")]),
            Err(InvalidRequest::OutOfLimit {
                limit: Limit::ButtonTemplateText,
                found: 641,
                ..
            })
        ));
        assert!(matches!(
            Template::button("Pick", vec![]),
            Err(InvalidRequest::OutOfLimit {
                limit: Limit::ButtonTemplateButtons,
                found: 0,
                ..
            })
        ));
        assert!(matches!(
            Template::button("Pick", vec![Button::postback("a title longer than twenty", "P")]),
            Err(InvalidRequest::OutOfLimit { limit: Limit::ButtonTitle, ref at, .. }) if at == "buttons[0].title"
        ));
        let media = (0..4).fold(
            MediaElement::facebook_url(MediaType::Video, "https://www.facebook.com/u/videos/1"),
            |m, i| m.button(Button::postback(format!("B{i}"), "P")),
        );
        assert!(matches!(
            Template::media(media),
            Err(InvalidRequest::OutOfLimit {
                limit: Limit::ElementButtons,
                found: 4,
                ..
            })
        ));
    }
}
