//! `gob env`: the configuration gob uses, printed like `go env`.

use std::collections::BTreeMap;

use crate::config::{self, ConfigError, Env};
use crate::load::LoadConfig;

/// Errors of `gob env`.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The variables could not be resolved.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The JSON object could not be written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// What `gob env` prints, as `go env` does: with `json` a JSON object
/// (tab-indented, go's escaping) of the variables, or of the `names` given;
/// else the values of the `names` given, one a line (an unknown name gives
/// an empty line), or without names every variable as `NAME='value'`
/// (quoted for a POSIX shell).
pub fn env(env: &Env, cfg: &LoadConfig, names: &[String], json: bool) -> Result<String, EnvError> {
    // The variables go computes with its builder (`ExtraEnvVarsCostly`),
    // after `BuildInit`'s check of CC, CXX and FC.
    const COSTLY: &[&str] = &[
        "CGO_CFLAGS",
        "CGO_CPPFLAGS",
        "CGO_CXXFLAGS",
        "CGO_FFLAGS",
        "CGO_LDFLAGS",
        "PKG_CONFIG",
        "GOGCCFLAGS",
    ];
    if names.is_empty() || names.iter().any(|n| COSTLY.contains(&n.as_str())) {
        config::check_compilers(env, cfg)?;
    }
    let vars = config::env_vars(env, cfg)?;
    let selected: Vec<(String, String)> = if names.is_empty() {
        vars
    } else {
        names
            .iter()
            .map(|name| {
                let value = match vars.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => v.clone(),
                    None => config::env_other(env, name),
                };
                (name.clone(), value)
            })
            .collect()
    };
    let mut out = String::new();
    if json {
        let m: BTreeMap<&str, &str> = selected
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        serde::Serialize::serialize(&m, &mut ser)?;
        out = go_json_escapes(&String::from_utf8_lossy(&buf)) + "\n";
    } else if !names.is_empty() {
        for (_, v) in selected {
            out += &format!("{v}\n");
        }
    } else {
        for (k, v) in selected {
            out += &format!("{k}='{}'\n", v.replace('\'', "'\\''"));
        }
    }
    Ok(out)
}

/// Go's encoding/json escapes `<`, `>`, `&`, U+2028 and U+2029 in strings;
/// serde_json does not. In JSON text they occur only inside strings.
pub(crate) fn go_json_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}
