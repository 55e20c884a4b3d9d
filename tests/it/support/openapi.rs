//! The OpenAPI document of the inbox routes, as tests check answers against it: which
//! operation a request is, whether a status is documented for it, and whether a JSON body
//! matches the documented schema (the subset of JSON Schema the document uses: `$ref`, `type`,
//! `properties`, `required`, `items`, `allOf`, `oneOf`, `enum`).

use serde_json::Value;

/// The document `meta_messaging_core::contract::openapi_json` generates.
pub(crate) struct Documented {
    document: Value,
}

impl Documented {
    pub(crate) fn load() -> Self {
        let document = serde_json::from_str(meta_messaging_core::contract::openapi_json())
            .expect("the OpenAPI document is JSON");
        Self { document }
    }

    /// The path template (`/conversations/{id}/read`) of a concrete path relative to the mount
    /// (its query, if any, left out).
    pub(crate) fn template(&self, path: &str) -> Option<&str> {
        let path = path.split('?').next().unwrap_or(path);
        let concrete: Vec<&str> = path.split('/').collect();
        self.document["paths"]
            .as_object()?
            .keys()
            .find(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                parts.len() == concrete.len()
                    && parts.iter().zip(&concrete).all(|(t, c)| {
                        (t.starts_with('{') && t.ends_with('}') && !c.is_empty()) || t == c
                    })
            })
            .map(String::as_str)
    }

    /// Every documented path template and its methods, upper-case.
    pub(crate) fn operations(&self) -> Vec<(String, Vec<&'static str>)> {
        let paths = self.document["paths"].as_object().into_iter().flatten();
        paths
            .map(|(template, item)| {
                let methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
                    .into_iter()
                    .filter(|m| item[m.to_ascii_lowercase()].is_object())
                    .collect();
                (template.clone(), methods)
            })
            .collect()
    }

    /// The operation of `method` (upper or lower case) on a concrete path.
    pub(crate) fn operation(&self, method: &str, path: &str) -> Option<&Value> {
        let template = self.template(path)?;
        let operation = &self.document["paths"][template][method.to_ascii_lowercase()];
        operation.is_object().then_some(operation)
    }

    /// Checks one answer against the document: the request is a documented operation and the
    /// status one of its documented responses, or it is a method the path does not take and
    /// the answer is a refusal; a JSON body matches the schema documented for the status.
    ///
    /// # Panics
    /// When it does not, with `what` and the reason.
    pub(crate) fn check(
        &self,
        what: &str,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
        body: Option<&Value>,
    ) {
        let Some(template) = self.template(path) else {
            panic!("{what}: {method} {path} is not a documented path");
        };
        let Some(operation) = self.operation(method, path) else {
            // A method the route does not take: refused before or instead of serving.
            assert!(
                [401, 403, 405, 421].contains(&status),
                "{what}: {method} {template} is not documented, yet answered {status}"
            );
            let error = self.document["components"]["schemas"]["ErrorBody"].clone();
            let body = body.unwrap_or_else(|| panic!("{what}: a refusal without a JSON body"));
            self.validate(&error, body, "$")
                .unwrap_or_else(|e| panic!("{what}: refusal body: {e}"));
            return;
        };
        let response = &operation["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{what}: {method} {template} answered {status}, which the document does not list (it lists {:?})",
            operation["responses"]
                .as_object()
                .map(|r| r.keys().collect::<Vec<_>>())
        );
        if let Some(body) = body {
            let media = content_type.split(';').next().unwrap_or_default().trim();
            let schema = &response["content"][media]["schema"];
            assert!(
                schema.is_object(),
                "{what}: {method} {template} {status} answered {media}, which the document does not list"
            );
            self.validate(schema, body, "$")
                .unwrap_or_else(|e| panic!("{what}: {method} {template} {status}: {e}"));
        }
    }

    /// Whether `value` matches `schema`; the error names where it does not.
    pub(crate) fn validate(&self, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        if let Some(target) = schema["$ref"].as_str() {
            let name = target.trim_start_matches("#/components/schemas/");
            let resolved = &self.document["components"]["schemas"][name];
            if !resolved.is_object() {
                return Err(format!("{at}: {target} does not resolve"));
            }
            return self.validate(resolved, value, at);
        }
        if let Some(all) = schema["allOf"].as_array() {
            for part in all {
                self.validate(part, value, at)?;
            }
        }
        if let Some(one) = schema["oneOf"].as_array() {
            let matching = one
                .iter()
                .filter(|part| self.validate(part, value, at).is_ok())
                .count();
            if matching != 1 {
                return Err(format!(
                    "{at}: matches {matching} of the oneOf schemas: {value}"
                ));
            }
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !allowed.contains(value)
        {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| type_matches(t, value)) {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
        if let Value::Object(fields) = value {
            if let Some(required) = schema["required"].as_array() {
                for name in required.iter().filter_map(Value::as_str) {
                    if !fields.contains_key(name) {
                        return Err(format!("{at}: required field {name} is missing"));
                    }
                }
            }
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property) in properties {
                    if let Some(field) = fields.get(name) {
                        self.validate(property, field, &format!("{at}.{name}"))?;
                    }
                }
            }
        }
        if let (Value::Array(items), Some(item)) = (value, schema.get("items")) {
            for (i, element) in items.iter().enumerate() {
                self.validate(item, element, &format!("{at}[{i}]"))?;
            }
        }
        Ok(())
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}
