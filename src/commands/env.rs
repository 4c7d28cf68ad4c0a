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
    /// A variable named on the command line is not one gob uses.
    #[error("gob env: unknown variable {0}")]
    UnknownVariable(String),
    /// The JSON object could not be written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// What `gob env` prints: with `json` a JSON object of the variables; else
/// the values of the `names` given, one a line, or without names every
/// variable as `NAME='value'` (quoted for a POSIX shell), as go env does.
pub fn env(env: &Env, cfg: &LoadConfig, names: &[String], json: bool) -> Result<String, EnvError> {
    let vars = config::env_vars(env, cfg)?;
    let selected: Vec<&(String, String)> = if names.is_empty() {
        vars.iter().collect()
    } else {
        let mut v = Vec::new();
        for name in names {
            match vars.iter().find(|(k, _)| k == name) {
                Some(kv) => v.push(kv),
                None => return Err(EnvError::UnknownVariable(name.clone())),
            }
        }
        v
    };
    let mut out = String::new();
    if json {
        let m: BTreeMap<&str, &str> = selected
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        out = serde_json::to_string_pretty(&m)? + "\n";
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
