//! `gob clean`: remove gob's build cache (`-cache`).

use crate::cache::{Cache, CacheError};
use crate::config::{self, Env};

/// Errors of `gob clean`.
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    /// No flag said what to remove.
    #[error("gob clean: nothing to do; pass -cache to remove the build cache")]
    NothingToDo,
    /// The cache could not be found, opened or emptied.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// `gob clean`: with `cache`, empties the build cache ([`Cache::clean`]).
pub fn clean(env: &Env, cache: bool) -> Result<(), CleanError> {
    if !cache {
        return Err(CleanError::NothingToDo);
    }
    let dir = config::cache_dir(env)?;
    Cache::open(&dir)?.clean()?;
    Ok(())
}
