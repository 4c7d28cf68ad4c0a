//! Action keys: what goes into the hash that names an action's outputs in the cache.
//!
//! The key covers everything that can change an output: the tool's identity
//! (digest of its binary, or gob's own version for internal steps), the argv and
//! every generated input written in host-independent form, the environment the
//! tool sees, and every input's location and content digest. Locations of other
//! actions' files are named by what produced them (`/work/<kind>:<package>/…`),
//! not by their action number, so the same package gets the same key in any
//! build that needs it. Nothing host-specific (paths, user, time) goes in.

use crate::plan::{ActionGraph, Arg, Loc, Part};

/// Renders a location for hashing: sources by inside path, work files by producer.
pub fn key_loc(g: &ActionGraph, me: crate::plan::ActionId, l: &Loc) -> String {
    match l {
        Loc::Src { .. } => l.inside(),
        Loc::Work { action, rel } if *action == me => format!("/work/self/{rel}"),
        Loc::Work { action, rel } => {
            let a = g.get(*action);
            format!("/work/{}:{}/{rel}", a.kind.name(), a.import_path)
        }
    }
}

/// Renders parts (an argv element or a generated file) for hashing.
pub fn key_text(g: &ActionGraph, me: crate::plan::ActionId, parts: &[Part]) -> String {
    Arg(parts.to_vec()).render(&|l| key_loc(g, me, l))
}
