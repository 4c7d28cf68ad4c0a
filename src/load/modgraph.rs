//! The module graph `go list -m all` reports (cmd/go's modload readModGraph
//! with graph pruning, then MVS): the main modules' requirements, the
//! requirements of each of those, and, below a module whose go.mod predates
//! go 1.17 (unpruned), everything it requires transitively. Each module path
//! takes the highest version anything in the graph requires.

use std::collections::{BTreeMap, HashSet};

use super::modfile;
use super::modules::{
    go_version_at_least, semver_less, DepMeta, DepModule, ModContextError, ModSource, ModuleConfig,
    ModuleContext,
};

impl ModuleContext {
    /// The module graph's selected versions, every module but the main ones,
    /// sorted by path, each with its source and metadata as the build list's.
    /// A go.mod the graph needs and the module cache lacks is an error (go
    /// would download it).
    pub fn module_graph(&self, cfg: &ModuleConfig) -> Result<Vec<DepModule>, ModContextError> {
        let is_main = |p: &str| self.mains.iter().any(|m| m.path == p);
        let main_pruned = self.mains.iter().all(|m| {
            m.file
                .go
                .as_deref()
                .is_some_and(|g| go_version_at_least(g, 17))
        }) || self.work_file.is_some();
        let mut selected: BTreeMap<String, String> = BTreeMap::new();
        let mut select = |p: &str, v: &str| {
            if is_main(p) {
                return;
            }
            let newer = selected.get(p).is_none_or(|cur| semver_less(cur, v));
            if newer {
                selected.insert(p.to_string(), v.to_string());
            }
        };
        // (path, version, unpruned) still to load.
        let mut queue: Vec<(String, String, bool)> = Vec::new();
        for m in &self.mains {
            for r in &m.file.require {
                if self.excluded(&r.path, &r.version) || is_main(&r.path) {
                    continue;
                }
                select(&r.path, &r.version);
                queue.push((r.path.clone(), r.version.clone(), !main_pruned));
            }
        }
        let mut loaded: HashSet<(String, String)> = HashSet::new();
        let mut loaded_unpruned: HashSet<(String, String)> = HashSet::new();
        while let Some((path, version, unpruned)) = queue.pop() {
            let key = (path.clone(), version.clone());
            if unpruned {
                if !loaded_unpruned.insert(key.clone()) {
                    continue;
                }
                loaded.insert(key);
            } else if !loaded.insert(key) {
                continue;
            }
            let (reqs, pruned) = self.requirements(&path, &version)?;
            for (rp, rv) in &reqs {
                if self.excluded(rp, rv) {
                    continue;
                }
                select(rp, rv);
            }
            if unpruned || !pruned {
                for (rp, rv) in reqs {
                    if !self.excluded(&rp, &rv) && !is_main(&rp) {
                        queue.push((rp, rv, true));
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (path, version) in selected {
            let mut d = match self.deps.get(&path) {
                Some(d) if d.version == version => d.clone(),
                _ => DepModule {
                    source: self.source_of(&path, &version),
                    path: path.clone(),
                    version: version.clone(),
                    meta: DepMeta::default(),
                },
            };
            if d.meta == DepMeta::default() {
                d.meta = self.dep_meta(cfg, &d)?;
            }
            out.push(d);
        }
        Ok(out)
    }

    /// A module version's requirements from the go.mod in effect (the
    /// replacement's), and whether that go.mod is pruned (go ≥ 1.17).
    fn requirements(
        &self,
        path: &str,
        version: &str,
    ) -> Result<(Vec<(String, String)>, bool), ModContextError> {
        let gomod = match self.source_of(path, version) {
            ModSource::LocalReplace { dir, .. } => dir.join("go.mod"),
            ModSource::Cache => self.cache_mod_file(path, version),
            ModSource::ModuleReplace {
                path: rp,
                version: rv,
            } => self.cache_mod_file(&rp, &rv),
        };
        let data = match self.files.read(&gomod) {
            Ok(d) => d,
            // A directory replacement without a go.mod requires nothing.
            Err(_)
                if matches!(
                    self.source_of(path, version),
                    ModSource::LocalReplace { .. }
                ) =>
            {
                return Ok((Vec::new(), true))
            }
            Err(_) => {
                return Err(ModContextError::NotInCache {
                    module: format!("{path}@{version}"),
                    file: gomod,
                })
            }
        };
        let f = modfile::parse_go_mod_lax(&gomod, &data)?;
        let pruned = f.go.as_deref().is_some_and(|g| go_version_at_least(g, 17));
        let reqs = f
            .require
            .iter()
            .map(|r| (r.path.clone(), r.version.clone()))
            .collect();
        Ok((reqs, pruned))
    }
}
