//! What each route takes and answers, for the OpenAPI document.
//!
//! [`of`] matches every [`Route`] exhaustively: a new route is a compile error here until it is
//! described. A description names only what is particular to the operation (its parameters,
//! body, successful answers and the errors its handler answers); the errors every operation of
//! its kind shares (credentials, host, body checks) are added by [`Op::finish`] from the same
//! facts the contract decides them on.

use std::borrow::Cow;

use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AllOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use super::{API_TOKEN_SCHEME, SESSION_SCHEME, register};
use crate::contract::answers::{AccountList, ProbeAnswer, SessionTenant, SignIn};
use crate::contract::{ErrorBody, Method, Route, reads_body};
use crate::inbox::{
    CommentReplyRequest, Connected, Receipt, SendOutcome, SendRequest, StatusReport,
};
use crate::store::{BackfillProgress, Conversation, StorePage, StoredMessage};

type Schemas = Vec<(String, RefOr<Schema>)>;

/// A schema of the components, and how to register it (with the schemas it refers to).
#[derive(Clone, Copy)]
struct Named {
    name: fn() -> Cow<'static, str>,
    register: fn(&mut Schemas),
}

fn named<T: ToSchema>() -> Named {
    Named {
        name: T::name,
        register: register::<T>,
    }
}

/// A page of `T`s, [`StorePage<T>`], named after `T` (`ConversationPage`): utoipa names every
/// `StorePage` alike, and one would replace the other in the components.
fn page<T: ToSchema>() -> Named {
    Named {
        name: page_name::<T>,
        register: register_page::<T>,
    }
}

fn page_name<T: ToSchema>() -> Cow<'static, str> {
    Cow::Owned(format!("{}Page", T::name()))
}

fn register_page<T: ToSchema>(schemas: &mut Schemas) {
    schemas.push((
        page_name::<T>().into_owned(),
        <StorePage<T> as PartialSchema>::schema(),
    ));
    <StorePage<T> as ToSchema>::schemas(schemas);
}

impl Named {
    fn reference(self) -> Ref {
        Ref::from_schema_name((self.name)())
    }
}

/// A successful answer's body.
enum Answer {
    /// JSON of a schema.
    Json(Named),
    /// Any JSON (the OpenAPI document itself).
    AnyJson,
    /// Text of this media type.
    Text(&'static str),
    /// The bytes of a kept attachment, of its own media type.
    Bytes,
    /// No body.
    Empty,
}

/// Who may call an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// Meta, or a browser Meta redirects: no credentials, no host check.
    Meta,
    /// Anyone reaching the server under an allowed host; a state change must not come from
    /// another site (signing in and out).
    Anyone,
    /// The session cookie only (`GET /session`).
    Session,
    /// An API token, the session cookie, or the host's own authentication.
    Tenant,
    /// An orchestrator's health probe: no credentials, any host.
    Probe,
}

/// One operation, as [`of`] describes it.
struct Op {
    method: Method,
    summary: &'static str,
    caller: Caller,
    query: &'static [(&'static str, &'static str)],
    headers: &'static [(&'static str, &'static str)],
    body: Option<Named>,
    /// The body may also be `multipart/form-data`: the body's fields and a `file`.
    form: bool,
    answers: Vec<(u16, &'static str, Answer)>,
    /// Errors the handler answers, besides those [`Op::finish`] adds.
    errors: &'static [u16],
}

/// The errors of a call to Meta's Graph API: refused as invalid, refused (permission, token,
/// window, user), rate limited, unavailable, timed out.
const GRAPH: &[u16] = &[400, 404, 422, 429, 502, 504];

fn op(method: Method, summary: &'static str) -> Op {
    Op {
        method,
        summary,
        caller: Caller::Tenant,
        query: &[],
        headers: &[],
        body: None,
        form: false,
        answers: Vec::new(),
        errors: &[],
    }
}

impl Op {
    fn caller(mut self, caller: Caller) -> Self {
        self.caller = caller;
        self
    }
    fn query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.query = query;
        self
    }
    fn headers(mut self, headers: &'static [(&'static str, &'static str)]) -> Self {
        self.headers = headers;
        self
    }
    fn body(mut self, body: Named) -> Self {
        self.body = Some(body);
        self
    }
    fn form(mut self) -> Self {
        self.form = true;
        self
    }
    fn answers(mut self, status: u16, description: &'static str, answer: Answer) -> Self {
        self.answers.push((status, description, answer));
        self
    }
    fn errors(mut self, errors: &'static [u16]) -> Self {
        self.errors = errors;
        self
    }

    /// The status codes of this operation's errors: its own, and those its kind shares.
    fn error_statuses(&self, route: Route) -> Vec<u16> {
        let mut statuses = self.errors.to_vec();
        if !matches!(self.caller, Caller::Meta | Caller::Probe) {
            statuses.push(421);
        }
        if matches!(self.caller, Caller::Tenant | Caller::Session) {
            statuses.extend([401, 500]);
        }
        if !matches!(self.caller, Caller::Meta | Caller::Probe) && self.method != Method::Get {
            statuses.push(403);
        }
        let json_body = reads_body(route, self.method)
            || (route == Route::Session && self.method == Method::Post);
        if json_body {
            statuses.extend([400, 408, 413, 415]);
        }
        statuses.sort_unstable();
        statuses.dedup();
        statuses
    }

    /// The schemas the operation refers to.
    fn named(&self) -> impl Iterator<Item = Named> + '_ {
        let answers = self
            .answers
            .iter()
            .filter_map(|(_, _, answer)| match answer {
                Answer::Json(named) => Some(*named),
                _ => None,
            });
        self.body
            .into_iter()
            .chain(answers)
            .chain([named::<ErrorBody>()])
    }

    fn finish(self, route: Route, path: &str) -> (HttpMethod, Operation) {
        let method = http_method(self.method);
        let mut operation = OperationBuilder::new()
            .summary(Some(self.summary))
            .operation_id(Some(operation_id(self.method, path)));
        if path.contains("{id}") {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(string())),
            );
        }
        for (name, description) in self.query {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(*description))
                    .schema(Some(string())),
            );
        }
        for (name, description) in self.headers {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(*description))
                    .schema(Some(string())),
            );
        }
        if let Some(body) = self.body {
            let mut request = RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(body.reference())).build(),
                );
            if self.form {
                request = request.content(
                    "multipart/form-data",
                    ContentBuilder::new().schema(Some(form_of(body))).build(),
                );
            }
            operation = operation.request_body(Some(request.build()));
        }
        for (status, description, answer) in &self.answers {
            let response = ResponseBuilder::new().description(*description);
            let response = match answer {
                Answer::Json(named) => response.content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(named.reference()))
                        .build(),
                ),
                Answer::AnyJson => response.content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                        .build(),
                ),
                Answer::Text(media_type) => response.content(
                    *media_type,
                    ContentBuilder::new().schema(Some(string())).build(),
                ),
                Answer::Bytes => response.content(
                    "*/*",
                    ContentBuilder::new()
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
                        ))
                        .build(),
                ),
                Answer::Empty => response,
            };
            operation = operation.response(status.to_string(), response.build());
        }
        for status in self.error_statuses(route) {
            let response = ResponseBuilder::new()
                .description(error_description(status))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(named::<ErrorBody>().reference()))
                        .build(),
                )
                .build();
            operation = operation.response(status.to_string(), response);
        }
        operation = match self.caller {
            Caller::Tenant => operation
                .security(SecurityRequirement::new(
                    API_TOKEN_SCHEME,
                    Vec::<String>::new(),
                ))
                .security(SecurityRequirement::new(
                    SESSION_SCHEME,
                    Vec::<String>::new(),
                )),
            Caller::Session => operation.security(SecurityRequirement::new(
                SESSION_SCHEME,
                Vec::<String>::new(),
            )),
            Caller::Meta | Caller::Anyone | Caller::Probe => operation,
        };
        (method, operation.build())
    }
}

/// A form of `body`'s fields (sent as text parts) and the part `file`.
fn form_of(body: Named) -> Schema {
    let file = ObjectBuilder::new()
        .property(
            "file",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                .description(Some(
                    "The file to send; its part's `Content-Type` is its media type",
                )),
        )
        .required("file");
    Schema::AllOf(
        AllOfBuilder::new()
            .item(body.reference())
            .item(file)
            .build(),
    )
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn http_method(method: Method) -> HttpMethod {
    match method {
        Method::Post => HttpMethod::Post,
        Method::Delete => HttpMethod::Delete,
        Method::Get | Method::Other => HttpMethod::Get,
    }
}

/// `get_conversations`, `post_conversations_id_read`, ...
fn operation_id(method: Method, path: &str) -> String {
    let method = match method {
        Method::Post => "post",
        Method::Delete => "delete",
        Method::Get | Method::Other => "get",
    };
    let words: Vec<String> = path
        .split(['/', '.'])
        .filter(|part| !part.is_empty())
        .map(|part| part.trim_matches(['{', '}']).to_owned())
        .collect();
    format!("{method}_{}", words.join("_"))
}

/// What an error status means on these routes (the `kind` in the body says exactly what).
fn error_description(status: u16) -> &'static str {
    match status {
        400 => {
            "Invalid request: a parameter, the body or a cursor (`invalid_request`, `invalid_cursor`, ...)"
        }
        401 => "No credentials, or wrong ones (`unauthorized`, `tenant_required`)",
        403 => {
            "A state change from another site (`cross_site_request`), or a refused webhook handshake"
        }
        404 => {
            "Not found: the conversation, comment, account or media is not the tenant's, or the feature is not set up"
        }
        408 => "The body arrived slower than the body timeout",
        409 => {
            "A request with the same Idempotency-Key is still in flight (retry after `Retry-After`)"
        }
        413 => "The body is larger than the limit",
        415 => "The body is not `application/json`",
        421 => "The server does not answer to the request's Host",
        422 => {
            "Refused: Meta refused the call (permission, token, window, user, ...), or the request cannot be done as asked"
        }
        429 => "Rate limited by Meta, or too many live event streams",
        500 => "A store or internal failure",
        502 => "Meta is unavailable or answered unexpectedly",
        504 => "Meta did not answer in time",
        _ => "An error",
    }
}

/// The methods the contract serves on `route`, lower-case, as in the document.
#[cfg(test)]
pub(super) fn methods(route: Route) -> Vec<&'static str> {
    of(route, "/")
        .into_iter()
        .map(|(method, _)| match method {
            HttpMethod::Post => "post",
            HttpMethod::Delete => "delete",
            _ => "get",
        })
        .collect()
}

/// Every schema the operations refer to, with the schemas those refer to.
pub(super) fn schemas(schemas: &mut Schemas) {
    for spec in crate::contract::ROUTES {
        for op in describe(spec.route) {
            for named in op.named() {
                (named.register)(schemas);
            }
        }
    }
    schemas.sort_by(|a, b| a.0.cmp(&b.0));
    schemas.dedup_by(|a, b| a.0 == b.0);
}

/// The operations of `route`, served at `path`.
pub(super) fn of(route: Route, path: &str) -> Vec<(HttpMethod, Operation)> {
    describe(route)
        .into_iter()
        .map(|op| op.finish(route, path))
        .collect()
}

const CURSOR: (&str, &str) = ("cursor", "The `next_cursor` of the previous page");
const LIMIT: (&str, &str) = ("limit", "The page size, 1 to 500 (default 50)");

/// What each operation of `route` takes and answers: add a route's description here.
fn describe(route: Route) -> Vec<Op> {
    use Answer::{Bytes, Empty, Json, Text};
    use Method::{Delete, Get, Post};
    let conversation = || Json(named::<Conversation>());
    let comment = || Json(named::<StoredMessage>());
    match route {
        Route::Webhook => vec![
            op(Get, "Meta's subscription handshake: answers `hub.challenge`")
                .caller(Caller::Meta)
                .query(&[
                    ("hub.mode", "`subscribe`"),
                    ("hub.verify_token", "The verify token set in the app dashboard"),
                    ("hub.challenge", "Echoed back when the token matches"),
                ])
                .answers(200, "The challenge", Text("text/plain; charset=utf-8"))
                .errors(&[400, 403]),
            op(Post, "A webhook delivery from Meta, signed with X-Hub-Signature-256")
                .caller(Caller::Meta)
                .headers(&[("X-Hub-Signature-256", "`sha256=` and the HMAC-SHA256 of the raw body under the app secret")])
                .answers(200, "Stored (once every write is durable)", Json(named::<Receipt>()))
                .errors(&[400, 401, 408, 413, 500]),
        ],
        Route::Conversations => vec![
            op(Get, "One page of conversations, by last activity")
                .query(&[
                    ("kind", "`direct` or `comments`"),
                    ("platform", "`messenger`, `instagram` or `all`"),
                    ("account_id", "Only this Page or Instagram account"),
                    ("archived", "`true` or `false`"),
                    ("unread", "`true`: only conversations with unread messages"),
                    CURSOR,
                    LIMIT,
                ])
                .answers(200, "A page of conversations", Json(page::<Conversation>()))
                .errors(&[400]),
        ],
        Route::ConversationRead => vec![
            op(Post, "Marks the conversation read")
                .answers(200, "The conversation", conversation())
                .errors(&[400, 404]),
        ],
        Route::ConversationArchive => vec![
            op(Post, "Archives the conversation")
                .answers(200, "The conversation", conversation())
                .errors(&[400, 404]),
        ],
        Route::ConversationUnarchive => vec![
            op(Post, "Unarchives the conversation")
                .answers(200, "The conversation", conversation())
                .errors(&[400, 404]),
        ],
        Route::ConversationTakeOver => vec![
            op(Post, "A person takes the conversation over: the bot stays quiet")
                .answers(200, "The conversation", conversation())
                .errors(GRAPH),
        ],
        Route::ConversationHandBack => vec![
            op(Post, "Hands the conversation back to the bot")
                .answers(200, "The conversation", conversation())
                .errors(&[400, 404]),
        ],
        Route::Messages => vec![
            op(Get, "One page of messages")
                .query(&[
                    ("platform", "`messenger`, `instagram` or `all`"),
                    ("account_id", "Only this Page or Instagram account"),
                    ("conversation_id", "Only this conversation"),
                    ("direction", "`inbound` or `outbound`"),
                    ("since", "Only messages at or after this time (ms since the epoch)"),
                    ("until", "Only messages before this time (ms since the epoch)"),
                    CURSOR,
                    LIMIT,
                ])
                .answers(200, "A page of messages", Json(page::<StoredMessage>()))
                .errors(&[400]),
            op(Post, "Sends a message (text, an attachment by URL, or a file from a form) and stores it")
                .headers(&[(
                    "Idempotency-Key",
                    "1 to 255 visible ASCII characters: a retry with the same key and body is answered the first answer, with `Idempotent-Replayed: true`",
                )])
                .body(named::<SendRequest>())
                .form()
                .answers(201, "Sent: Meta has the message", Json(named::<SendOutcome>()))
                .errors(&[400, 404, 409, 422, 429, 502, 504]),
        ],
        Route::CommentReplies => vec![
            op(Post, "A public or private reply to a comment")
                .body(named::<CommentReplyRequest>())
                .answers(201, "Sent: Meta has the reply", Json(named::<SendOutcome>()))
                .errors(GRAPH),
        ],
        Route::CommentHide => vec![
            op(Post, "Hides the comment")
                .answers(200, "The stored comment", comment())
                .errors(GRAPH),
        ],
        Route::CommentUnhide => vec![
            op(Post, "Unhides the comment")
                .answers(200, "The stored comment", comment())
                .errors(GRAPH),
        ],
        Route::Comment => vec![
            op(Delete, "Deletes the comment on Meta; the store keeps it as deleted")
                .answers(200, "The stored comment", comment())
                .errors(GRAPH),
        ],
        Route::Media => vec![
            op(Get, "A kept attachment's bytes (the `media_url` of an attachment)")
                .headers(&[("Range", "`bytes=start-end` of a video or audio")])
                .answers(200, "The bytes, as their own media type (or `application/octet-stream`)", Bytes)
                .answers(206, "The requested part of a video or audio", Bytes)
                .answers(416, "The requested part is beyond the end", Empty)
                .errors(&[404]),
        ],
        Route::Accounts => vec![
            op(Get, "The tenant's connected accounts")
                .answers(200, "The accounts", Json(named::<AccountList>())),
        ],
        Route::AccountBackfill => vec![
            op(Post, "Starts (or resumes) the account's history backfill")
                .query(&[("platform", "`messenger` or `instagram`, when the id names both")])
                .answers(202, "Started: its progress", Json(named::<BackfillProgress>()))
                .errors(&[400, 404]),
        ],
        Route::Status => vec![
            op(Get, "The health of each connected account")
                .query(&[("check", "`true`: run the live checks against Meta")])
                .answers(200, "The report", Json(named::<StatusReport>()))
                .errors(&[400]),
        ],
        Route::Events => vec![
            op(Get, "Live events (Server-Sent Events), resumable")
                .query(&[("last_event_id", "Resume after this event id")])
                .headers(&[("Last-Event-ID", "Resume after this event id (wins over the query)")])
                .answers(200, "The event stream", Text("text/event-stream"))
                .errors(&[400, 429]),
        ],
        Route::OAuthStart => vec![
            op(Get, "Redirects to Meta's Login dialog to connect accounts")
                .answers(302, "To Meta's Login dialog (`Location`), with the state cookie", Empty)
                .errors(&[404]),
        ],
        Route::OAuthCallback => vec![
            op(Get, "Meta's redirect back: the accounts are connected and stored")
                .caller(Caller::Meta)
                .query(&[
                    ("code", "The authorization code"),
                    ("state", "The signed state (checked against the state cookie)"),
                ])
                .answers(200, "The accounts connected", Json(named::<Connected>()))
                .answers(302, "To the host's success page, with `connected=<count>`", Empty)
                .errors(&[400, 404, 422, 429, 500, 502, 504]),
        ],
        Route::Session => vec![
            op(Get, "Who is signed in")
                .caller(Caller::Session)
                .answers(200, "The signed-in tenant", Json(named::<SessionTenant>()))
                .errors(&[404]),
            op(Post, "Signs in with an API token or a one-time code: sets the session cookie")
                .caller(Caller::Anyone)
                .body(named::<SignIn>())
                .answers(200, "Signed in: the tenant", Json(named::<SessionTenant>()))
                .errors(&[401, 404]),
            op(Delete, "Signs out: clears the session cookie")
                .caller(Caller::Anyone)
                .answers(204, "Signed out", Empty)
                .errors(&[404]),
        ],
        Route::HealthLive => vec![
            op(Get, "Liveness: the process serves requests")
                .caller(Caller::Probe)
                .answers(200, "`{\"status\": \"ok\"}`", Json(named::<ProbeAnswer>())),
        ],
        Route::HealthReady => vec![
            op(Get, "Readiness: the store answers with every migration applied, the fan-out listens, and the inbox is not shutting down")
                .caller(Caller::Probe)
                .answers(200, "`{\"status\": \"ok\"}`", Json(named::<ProbeAnswer>()))
                .answers(503, "`{\"status\": \"unavailable\"}` (the cause is logged)", Json(named::<ProbeAnswer>())),
        ],
        Route::OpenApiDocument => vec![
            op(Get, "This document")
                .answers(200, "The OpenAPI document of these routes", Answer::AnyJson),
        ],
        Route::Metrics => vec![
            op(Get, "The metrics of this server, for a Prometheus scrape")
                .answers(
                    200,
                    "The metrics in Prometheus' text format (names in docs/operations.md)",
                    Answer::Text("text/plain; version=0.0.4; charset=utf-8"),
                )
                .errors(&[404]),
        ],
    }
}
