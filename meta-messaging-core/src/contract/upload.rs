//! `POST /messages` as `multipart/form-data`: the JSON form's fields as form fields, and the
//! file to send as the part named `file`.
//!
//! The body may be as large as [`Inbox::max_upload_bytes`] plus [`FORM_OVERHEAD`] for the
//! fields and part headers; every other body keeps [`Inbox::max_body_bytes`]. The request
//! passed the same checks as any state change (credentials, host, cross-site) before its body
//! is read.

use bytes::Bytes;
use futures_util::Stream;
use serde_json::{Map, Value};

use super::body::{self, BodyError};
use super::{ApiRequest, ApiResponse, messages};
use crate::ids::TenantId;
use crate::inbox::{Inbox, InboxError, OutgoingFile, SendRequest};

/// Room for the form fields and part headers next to the largest file.
pub(crate) const FORM_OVERHEAD: usize = 64 * 1024;

/// The form field that carries the file.
const FILE_FIELD: &str = "file";

/// `multipart/form-data`, with or without parameters.
pub(super) fn is_multipart(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// Reads, parses and sends a multipart `POST /messages`.
pub(super) async fn post<S, E>(
    inbox: &Inbox,
    tenant: &TenantId,
    request: ApiRequest<'_>,
    body: S,
) -> ApiResponse
where
    S: Stream<Item = Result<Bytes, E>>,
{
    match read(inbox, request.headers.content_type, body).await {
        Ok(send) => {
            messages::send_request(inbox, tenant, request.headers.idempotency_key, &send).await
        }
        Err(err) => ApiResponse::error(&err),
    }
}

async fn read<S, E>(
    inbox: &Inbox,
    content_type: Option<&str>,
    body: S,
) -> Result<SendRequest, InboxError>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let upload_limit = inbox.max_upload_bytes();
    let boundary =
        multer::parse_boundary(content_type.unwrap_or_default()).map_err(|err| invalid(&err))?;
    let limit = upload_limit.saturating_add(FORM_OVERHEAD);
    let bytes = body::read(body, limit, inbox.body_timeout())
        .await
        .map_err(|err| match err {
            BodyError::TooLarge => InboxError::UploadTooLarge {
                limit: upload_limit,
            },
            BodyError::TimedOut => InboxError::BodyTimeout {
                timeout: inbox.body_timeout(),
            },
            BodyError::Incomplete => InboxError::BodyIncomplete,
        })?;
    parse(bytes, &boundary, upload_limit).await
}

/// The send a form asks for: its text fields read as the JSON form's fields (`human_agent` as
/// a boolean, `quick_replies` as JSON), so both forms take the same fields and refuse alike.
async fn parse(
    bytes: Bytes,
    boundary: &str,
    upload_limit: usize,
) -> Result<SendRequest, InboxError> {
    let stream =
        futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut fields = Map::new();
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(|err| invalid(&err))? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == FILE_FIELD {
            if file.is_some() {
                return Err(InboxError::InvalidRequest(
                    "one file per message: send one request per file".to_owned(),
                ));
            }
            let filename = field.file_name().unwrap_or(FILE_FIELD).to_owned();
            let mime = field
                .content_type()
                .map(ToString::to_string)
                .unwrap_or_default();
            let bytes = field.bytes().await.map_err(|err| invalid(&err))?;
            if bytes.len() > upload_limit {
                return Err(InboxError::UploadTooLarge {
                    limit: upload_limit,
                });
            }
            file = Some(OutgoingFile::new(filename, mime, bytes));
            continue;
        }
        let text = field.text().await.map_err(|err| invalid(&err))?;
        let value = match name.as_str() {
            "human_agent" => Value::Bool(text.trim().eq_ignore_ascii_case("true")),
            "quick_replies" => serde_json::from_str(&text).map_err(|err| {
                InboxError::InvalidRequest(format!("form field quick_replies: {err}"))
            })?,
            _ => Value::String(text),
        };
        if fields.insert(name.clone(), value).is_some() {
            return Err(InboxError::InvalidRequest(format!(
                "form field {name:?} is given twice"
            )));
        }
    }
    let mut send: SendRequest = serde_json::from_value(Value::Object(fields))
        .map_err(|err| InboxError::InvalidRequest(format!("send request form: {err}")))?;
    let Some(file) = file else {
        return Err(InboxError::InvalidRequest(
            "a multipart send needs its file in the part named \"file\"; send text as JSON"
                .to_owned(),
        ));
    };
    send.file = Some(file);
    Ok(send)
}

fn invalid(err: &multer::Error) -> InboxError {
    InboxError::InvalidRequest(format!("multipart body: {err}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A form part: its name, its file's name and media type (for a file), and its value.
    type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a str);

    fn form(parts: &[Part<'_>]) -> Bytes {
        let mut body = String::new();
        for (name, file, value) in parts {
            body.push_str("--XyZ\r\n");
            match file {
                Some((filename, mime)) => body.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
                )),
                None => body.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                )),
            }
            body.push_str(value);
            body.push_str("\r\n");
        }
        body.push_str("--XyZ--\r\n");
        Bytes::from(body)
    }

    #[tokio::test]
    async fn the_form_takes_the_json_forms_fields_and_one_file() {
        let body = form(&[
            ("platform", None, "messenger"),
            ("account_id", None, "100"),
            ("recipient_id", None, "200"),
            ("human_agent", None, "true"),
            ("reply_to", None, "m_1"),
            ("file", Some(("shoe.png", "image/png")), "PNGBYTES"),
        ]);
        let send = parse(body, "XyZ", 100).await.unwrap();
        assert_eq!(send.account_id.as_str(), "100");
        assert!(send.human_agent);
        assert_eq!(send.reply_to.unwrap().as_str(), "m_1");
        let file = send.file.unwrap();
        assert_eq!(
            (file.filename(), file.mime(), &file.bytes()[..]),
            ("shoe.png", "image/png", &b"PNGBYTES"[..])
        );
    }

    #[tokio::test]
    async fn a_form_is_refused_as_the_json_form_is() {
        let unknown = form(&[("platform", None, "messenger"), ("colour", None, "red")]);
        let err = parse(unknown, "XyZ", 100).await.unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
        let no_file = form(&[
            ("platform", None, "messenger"),
            ("account_id", None, "100"),
            ("recipient_id", None, "200"),
        ]);
        let err = parse(no_file, "XyZ", 100).await.unwrap_err();
        assert!(err.to_string().contains("\"file\""), "{err}");
        let big = form(&[("file", Some(("a.bin", "application/zip")), "0123456789")]);
        assert!(matches!(
            parse(big, "XyZ", 9).await,
            Err(InboxError::UploadTooLarge { limit: 9 })
        ));
    }

    #[test]
    fn multipart_media_types() {
        assert!(is_multipart(Some("multipart/form-data; boundary=x")));
        assert!(is_multipart(Some("Multipart/Form-Data")));
        assert!(!is_multipart(Some("application/json")));
        assert!(!is_multipart(None));
    }
}
